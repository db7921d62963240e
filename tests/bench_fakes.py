"""A deterministic fake runner and timer for harness tests: each call "takes" an injected duration."""
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lsnet.bench.harness import Candidate
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo

MS = 1_000_000


class FakeRunner(Runner):
    """``infer_native`` logs (name, batch) and returns the duration (ns) the fake timer reports."""

    def __init__(
        self,
        name: str,
        duration_ns: Callable[[int, int], int] | int,
        calls: list[tuple[str, int]],
        oom_above: int | None = None,
        fixed_batch: int | None = None,
    ) -> None:
        self.name = name
        self.duration_ns = duration_ns if callable(duration_ns) else (lambda _batch, _i, d=duration_ns: d)
        self.calls = calls
        self.oom_above = oom_above
        self.count = 0
        self.input_spec = InputSpec("input", (fixed_batch, 3, 8, 8))
        self.info = RunnerInfo(runtime="fake", device="cpu", precision="fp32", metadata={"variant": name})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return np.zeros((batch.shape[0], 10), np.float32)

    def infer_native(self, prepared: Any) -> int:
        batch = prepared.shape[0]
        if self.oom_above is not None and batch > self.oom_above:
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {batch} images")
        self.calls.append((self.name, batch))
        self.count += 1
        return self.duration_ns(batch, self.count)


def fake_timer(fn: Callable[[Any], Any], arg: Any) -> int:
    """The duration the fake runner says its call took."""
    return fn(arg)


def candidate(name: str, duration_ns: Any, calls: list, **kwargs: Any) -> Candidate:
    return Candidate(label=name, runner=FakeRunner(name, duration_ns, calls, **kwargs), extra={"model": name})
