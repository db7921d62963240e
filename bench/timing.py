"""Timers for one synchronous call: host clock on CPU, CUDA events (then a synchronize) on GPU."""
import time
from collections.abc import Callable
from typing import Any, Protocol


class Timer(Protocol):
    """Measures one call of ``fn(arg)`` and returns its duration in nanoseconds."""

    def __call__(self, fn: Callable[[Any], Any], arg: Any) -> int: ...


def cpu_timer(fn: Callable[[Any], Any], arg: Any) -> int:
    """Wall time of one call with ``time.perf_counter_ns`` (the call must be synchronous)."""
    start = time.perf_counter_ns()
    fn(arg)
    return time.perf_counter_ns() - start


class CudaEventTimer:
    """Time between two CUDA events recorded around the call on the current stream, after a synchronize.

    Runners' ``infer_native`` is synchronous, so the events bracket all GPU work of the call; the
    synchronize before reading the events makes the number complete even for asynchronous runtimes.
    """

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.start = torch.cuda.Event(enable_timing=True)
        self.end = torch.cuda.Event(enable_timing=True)

    def __call__(self, fn: Callable[[Any], Any], arg: Any) -> int:
        self.torch.cuda.synchronize()
        self.start.record()
        fn(arg)
        self.end.record()
        self.end.synchronize()
        return round(self.start.elapsed_time(self.end) * 1e6)


def timer_for(device: str) -> Timer:
    """The timer to use on ``device`` ('cpu' or 'cuda[:n]')."""
    return CudaEventTimer() if device.startswith("cuda") else cpu_timer
