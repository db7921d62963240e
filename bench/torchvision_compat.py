"""Let timm import where torchvision's compiled ops cannot load beside this torch.

PyPI's Linux torchvision wheels link their ``_C`` extension against CUDA torch (``libtorch_cuda.so``). Beside the
CPU torch wheel that extension cannot load, and torchvision's Python layer then fails at import time because it
registers fake kernels for two ops by name (``torchvision::nms``, ``torchvision::qnms``). timm imports torchvision
for a few pure-Python helpers; the peer backbones use no torchvision op. Where the extension does not load, this
declares those two schemas (no kernels: calling them raises) so the import succeeds. The clean fix on a user's
machine is the matching CPU wheel: ``pip install torchvision --index-url https://download.pytorch.org/whl/cpu``.
"""
import importlib.util
import logging
from pathlib import Path

log = logging.getLogger(__name__)

FAKE_REGISTERED_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_declared: list[object] = []  # keeps the torch.library.Library alive: dropping it would remove the schemas


def extension_path() -> Path | None:
    """torchvision's compiled extension, or None where torchvision is not installed."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("_C*.so"))
    return found[0] if found else None


def declare_ops_if_extension_fails() -> bool:
    """Before torchvision is first imported: declare the op schemas its import needs when ``_C`` cannot load.

    Returns True when the schemas were declared (torchvision's own ops are then unavailable)."""
    import torch

    path = extension_path()
    if path is None or _declared or hasattr(torch.ops.torchvision, "nms"):
        return False
    try:
        torch.ops.load_library(str(path))
        return False
    except OSError as exc:
        reason = " ".join(str(exc).split())[:160]
    library = torch.library.Library("torchvision", "DEF")
    for schema in FAKE_REGISTERED_OPS:
        library.define(schema)
    _declared.append(library)
    log.warning(
        "torchvision's compiled ops do not load beside this torch (%s); declared the schemas its import needs so timm"
        " imports (the peers use no torchvision op). A matching CPU torchvision avoids this.", reason,
    )
    return True
