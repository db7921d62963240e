"""What a TensorRT engine depends on: the TensorRT version and the GPU it was built for.

Shared by the exporter (records it), the runner (refuses a mismatch) and ``lsnet doctor``.
"""
from types import ModuleType
from typing import Any

import torch

from lsnet.deps import try_import
from lsnet.errors import DeviceUnavailableError, LsnetError

INSTALL_HINT = (
    'pip install "lsnet[trt]" on a machine with an NVIDIA GPU and CUDA '
    "(the tensorrt wheels fetch NVIDIA's libraries; see NVIDIA's TensorRT installation guide)"
)


class TensorRTUnavailableError(DeviceUnavailableError):
    """TensorRT or a CUDA GPU is missing on this machine."""


class EngineMismatchError(LsnetError):
    """An engine built for another GPU or TensorRT version."""


def require_tensorrt_gpu(purpose: str) -> ModuleType:
    """The tensorrt module when it imports AND a CUDA GPU is visible; one clear error otherwise."""
    trt, why = try_import("tensorrt")
    missing = []
    if trt is None:
        missing.append(f"TensorRT is {why}")
    if not torch.cuda.is_available():
        missing.append("no CUDA GPU is visible to PyTorch" + ("" if torch.version.cuda else " (this PyTorch is a CPU-only build)"))
    if missing:
        raise TensorRTUnavailableError(
            f"{purpose} need an NVIDIA GPU with TensorRT, and here {' and '.join(missing)}: {INSTALL_HINT}."
        )
    return trt


def gpu_identity(device: torch.device | None = None) -> dict[str, str]:
    """Name and compute capability ("8.6") of a CUDA device (the current one by default)."""
    index = device.index if device is not None and device.index is not None else torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    return {"gpu": torch.cuda.get_device_name(index), "compute_capability": f"{major}.{minor}"}


def engine_environment(trt: ModuleType, device: torch.device | None = None) -> dict[str, str]:
    """What an engine built here is tied to: TensorRT version, GPU name and compute capability."""
    return {"tensorrt_version": trt.__version__, **gpu_identity(device)}


COMPATIBILITY_KEYS = {
    "tensorrt_version": "TensorRT version",
    "gpu": "GPU",
    "compute_capability": "compute capability",
}


def check_engine_compatible(recorded: dict[str, Any] | None, current: dict[str, Any], path: Any = "engine") -> None:
    """Refuse an engine whose recorded TensorRT version, GPU or compute capability differs from ``current``.

    ``recorded`` is the ``tensorrt`` block of the sidecar; None (no sidecar) skips the check.
    """
    if not recorded:
        return
    differences = [
        f"{label} {recorded[key]} (built) vs {current.get(key)} (here)"
        for key, label in COMPATIBILITY_KEYS.items()
        if key in recorded and str(recorded[key]) != str(current.get(key))
    ]
    if differences:
        raise EngineMismatchError(
            f"{path} was built for another setup ({'; '.join(differences)}) and TensorRT engines are not portable: "
            "rebuild it on this machine with lsnet export MODEL --format trt."
        )
