"""Peak memory of one configuration, where the runtime lets us read it honestly."""
from typing import Protocol


class MemoryProbe(Protocol):
    """``start()`` before a timed round, ``stop()`` after it returns the peak in MiB or None."""

    def start(self) -> None: ...

    def stop(self) -> float | None: ...


class NoMemoryProbe:
    """For runtimes whose allocations we cannot attribute to one configuration (CPU, ONNX Runtime, TensorRT)."""

    def start(self) -> None:
        """Nothing to reset."""

    def stop(self) -> None:
        return None


class TorchCudaMemoryProbe:
    """``torch.cuda.max_memory_allocated`` since a reset: tensors of PyTorch's caching allocator only."""

    def __init__(self, device: str) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)

    def start(self) -> None:
        self.torch.cuda.reset_peak_memory_stats(self.device)

    def stop(self) -> float:
        return self.torch.cuda.max_memory_allocated(self.device) / 2**20


no_memory_probe = NoMemoryProbe()


def memory_probe(runtime: str, device: str) -> MemoryProbe:
    """The probe for a runner: PyTorch on CUDA is measurable; anything else reports None."""
    if runtime.startswith("pytorch") and device.startswith("cuda"):
        return TorchCudaMemoryProbe(device)
    return no_memory_probe


def process_peak_rss_mb() -> float | None:
    """Peak resident set size of this process so far in MiB (whole process, not one configuration)."""
    try:
        import resource
        import sys
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
