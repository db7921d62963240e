"""The runner contract shared by every runtime: open, infer, close. No timing inside runners."""
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class InputSpec:
    """What a runner's single image input takes: name, NCHW shape (None = dynamic), dtype, batch range."""

    name: str
    shape: tuple[int | None, int, int, int]
    dtype: str = "float32"
    min_batch: int = 1
    max_batch: int | None = None

    @property
    def dynamic_batch(self) -> bool:
        return self.shape[0] is None

    def check_batch(self, batch: int) -> None:
        """Raise BatchSizeError if ``batch`` images cannot be run in one call."""
        from lsnet.errors import BatchSizeError

        fixed = self.shape[0]
        if fixed is not None and batch != fixed:
            raise BatchSizeError(f"this artifact takes batch {fixed} only, got {batch}; re-export with --dynamic-batch.")
        if batch < self.min_batch or (self.max_batch is not None and batch > self.max_batch):
            raise BatchSizeError(
                f"batch {batch} is outside this artifact's range {self.min_batch}..{self.max_batch}; rebuild it with a wider range."
            )


def artifact_file(path: str | Path, what: str, hint: str) -> Path:
    """``path`` as a Path; one ArtifactError naming ``what`` and the ``hint`` when no such file exists."""
    from lsnet.errors import ArtifactError

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{what} not found: {path}; {hint}.")
    return path


def require_cpu(device: str, runner: str) -> None:
    """Refuse any device but the CPU for a CPU-only runner, in one line."""
    from lsnet.errors import DeviceUnavailableError

    if device != "cpu":
        raise DeviceUnavailableError(f"the {runner} runner runs on the CPU only, not '{device}'; use --device cpu.")


def pad_batch(images: np.ndarray, size: int | None) -> np.ndarray:
    """``images`` zero-padded along the batch axis to ``size`` (for fixed-batch artifacts); unchanged otherwise."""
    if size is None or len(images) >= size:
        return images
    return np.concatenate([images, np.zeros((size - len(images), *images.shape[1:]), dtype=images.dtype)])


@dataclass
class RunnerInfo:
    """Describes an open runner for reports: runtime name, device, artifact metadata (sidecar)."""

    runtime: str
    device: str
    precision: str = "fp32"
    metadata: dict[str, Any] = field(default_factory=dict)


class Runner(ABC):
    """One model opened in one runtime. ``infer`` maps an NCHW float batch to logits (numpy in, numpy out).

    Runners may additionally offer ``infer_native`` taking/returning the runtime's own device
    tensors so that benchmarks can exclude host/device copies; the default is ``infer``.
    """

    input_spec: InputSpec
    info: RunnerInfo

    @abstractmethod
    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch (N, 3, H, W) float32 and return logits (N, classes) as float32 numpy."""

    def prepare(self, batch: np.ndarray) -> Any:
        """Convert a numpy batch to what ``infer_native`` takes (device tensor, OrtValue, ...)."""
        return batch

    def infer_native(self, prepared: Any) -> Any:
        """Run a prepared batch; the result stays in the runtime's own form. Must be synchronous."""
        return self.infer(prepared)

    def close(self) -> None:
        """Release the runtime's resources. Safe to call twice."""

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def infer_in_chunks(runner: Runner, batch: np.ndarray, batch_size: int) -> np.ndarray:
    """Logits for every image, in chunks of ``batch_size``; fixed-batch artifacts get zero padding."""
    fixed = runner.input_spec.shape[0]
    step = fixed or batch_size
    outputs = []
    for start in range(0, len(batch), step):
        chunk = batch[start : start + step]
        outputs.append(runner.infer(pad_batch(chunk, fixed))[: len(chunk)])
    return np.concatenate(outputs)
