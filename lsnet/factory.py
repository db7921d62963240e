"""``create_model`` and ``list_models``: the public way to build LSNet variants."""
import os

from torch import nn

from lsnet.checkpoint import head_classes, load_checkpoint, read_state_dict
from lsnet.choices import pick
from lsnet.errors import InvalidResolutionError, UnknownModelError, UnknownOptionError
from lsnet.hub import download_pretrained
from lsnet.model import LSNet
from lsnet.ska import SKA, get_ska
from lsnet.variants import VARIANTS

MIN_IMG_SIZE = 64
DEFAULT_NUM_CLASSES = 1000  # ImageNet-1k, when neither a checkpoint head nor num_classes says otherwise
MAX_IMG_SIZE = 4096  # per side; activation memory grows with the pixel count


def list_models() -> list[str]:
    """Names of every registered LSNet variant."""
    return list(VARIANTS)


def parse_img_size(img_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """(H, W) from an int or a pair; each side a multiple of 8 from 64 (four stages) to 4096 (memory)."""
    size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in size):
        raise InvalidResolutionError(f"img_size must be an int or (height, width), got {img_size!r}.")
    for side in size:
        if side < MIN_IMG_SIZE or side % 8:
            raise InvalidResolutionError(
                f"img_size {side} is not valid: use a multiple of 8 that is at least {MIN_IMG_SIZE} "
                f"(the stem has stride 8 and three more stages halve it), e.g. 224."
            )
        if side > MAX_IMG_SIZE:
            raise InvalidResolutionError(
                f"img_size {side} is too large: at most {MAX_IMG_SIZE} per side (activation memory grows with the"
                " pixel count; LSNet was trained at 224), e.g. 224 or 384."
            )
    return size


def create_model(
    name: str,
    *,
    num_classes: int | None = None,
    img_size: int | tuple[int, int] = 224,
    ska: str = "reference",
    checkpoint_path: str | os.PathLike | None = None,
    pretrained: bool = False,
    features_only: bool = False,
    random_head: bool = False,
) -> LSNet:
    """Build an LSNet variant in eval mode, optionally loading a checkpoint or the official weights.

    ``num_classes`` defaults to the checkpoint head's class count (1000 without a checkpoint). An explicit
    ``num_classes`` that differs from the checkpoint's head raises ``CheckpointMismatchError`` unless
    ``random_head`` asks for a randomly initialised head of that size (logged as a warning).
    """
    variant = VARIANTS[pick("model", name, VARIANTS, UnknownModelError)]
    get_ska(ska)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0):
        raise UnknownOptionError(f"num_classes must be an integer >= 0, got {num_classes!r}.")
    if checkpoint_path is None and pretrained:
        checkpoint_path = download_pretrained(name)
    state = read_state_dict(checkpoint_path) if checkpoint_path is not None else None
    if num_classes is None:
        num_classes = (head_classes(state) if state is not None else None) or DEFAULT_NUM_CLASSES
    model = LSNet(variant, num_classes, parse_img_size(img_size), ska, features_only)
    model.name = name
    if checkpoint_path is not None:
        load_checkpoint(model, checkpoint_path, random_head=random_head, state=state)
    return model.eval()


def set_ska(model: nn.Module, impl: str) -> nn.Module:
    """Switch every SKA in ``model`` to the formulation ``impl``; returns the model."""
    get_ska(impl)
    for module in model.modules():
        if isinstance(module, SKA):
            module.impl = impl
    return model


def ska_of(model: nn.Module) -> str | None:
    """The SKA formulation a model uses (None if it has no SKA)."""
    return next((m.impl for m in model.modules() if isinstance(m, SKA)), None)


def count_params(model: nn.Module) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())

