"""Core ML runner (macOS only): one compute unit, the common NCHW-in / logits-out contract.

The exported model takes an RGB image and normalizes it itself. To keep the contract of every
runner (an NCHW float batch normalized with the model's mean/std), ``prepare`` undoes the
normalization into 0..255 RGB images, which is exact for inputs that came from pixels (what
``lsnet predict``, the validators and the benchmark feed). Values that are not pixels (e.g.
standard-normal noise) are clipped to 0..255 the way any image would be; that is logged once.
Batches go through Core ML's batch-prediction API; the ``logits`` output is returned.
"""
import logging
import platform
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.choices import pick
from lsnet.errors import ArtifactError, DeviceUnavailableError, UnknownOptionError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo

log = logging.getLogger(__name__)

COMPUTE_UNITS = {"cpu_only": "CPU_ONLY", "cpu_and_gpu": "CPU_AND_GPU", "cpu_and_ne": "CPU_AND_NE", "all": "ALL"}
UNIT_ALIASES = {"cpu": "cpu_only", "gpu": "cpu_and_gpu", "ne": "cpu_and_ne", "ane": "cpu_and_ne"}


def compute_unit(device: str) -> str:
    """The compute-unit name for ``device`` (aliases cpu, gpu, ne/ane accepted)."""
    key = device.strip().lower()
    return pick("Core ML compute unit", UNIT_ALIASES.get(key, key), COMPUTE_UNITS, UnknownOptionError)


class CoreMLRunner(Runner):
    """An .mlpackage / .mlmodel opened with coremltools on one compute unit."""

    def __init__(self, target: str | Path, device: str = "all", *, logits_output: str | None = None) -> None:
        from lsnet.config import IMAGENET_MEAN, IMAGENET_STD
        from lsnet.runtimes.artifact_metadata import read_sidecar
        from lsnet.runtimes.coreml_tools import can_predict, import_coremltools

        unit = compute_unit(device)
        if platform.system() != "Darwin":
            raise DeviceUnavailableError("Core ML predictions need macOS; on Linux use lsnet validate for the structural checks.")
        path = Path(target)
        if not path.exists():
            raise ArtifactError(f"Core ML model not found: {path}; pass an .mlpackage folder or .mlmodel file.")
        ct = import_coremltools()
        if not can_predict():
            raise DeviceUnavailableError("this coremltools build cannot run predictions; pip install \"lsnet[coreml]\" on macOS 13 or later.")
        self.model = ct.models.MLModel(str(path), compute_units=getattr(ct.ComputeUnit, COMPUTE_UNITS[unit]))
        spec = self.model.get_spec()
        image = next((f for f in spec.description.input if f.type.WhichOneof("Type") == "imageType"), None)
        if image is None:
            raise ArtifactError(f"{path} has no image input; export it with lsnet export --format coreml.")
        metadata = read_sidecar(path)
        self.input_name = image.name
        self.logits_name = logits_output or dict(spec.description.metadata.userDefined).get("logits_output", "logits")
        self.mean = np.reshape(metadata.get("mean", IMAGENET_MEAN), (1, 3, 1, 1)).astype(np.float32)
        self.std = np.reshape(metadata.get("std", IMAGENET_STD), (1, 3, 1, 1)).astype(np.float32)
        self._warned_clip = False
        size = (image.type.imageType.height, image.type.imageType.width)
        self.input_spec = InputSpec(name=self.input_name, shape=(None, 3, *size))
        self.info = RunnerInfo(runtime="coreml", device=unit, precision=metadata.get("precision", "fp16"), metadata=metadata)

    def prepare(self, batch: np.ndarray) -> list[Any]:
        """Normalized NCHW floats -> RGB PIL images (exact for inputs that came from pixels)."""
        from PIL import Image

        self.input_spec.check_batch(batch.shape[0])
        pixels = (np.asarray(batch, dtype=np.float32) * self.std + self.mean) * 255.0
        clipped = float(np.mean((pixels < -0.5) | (pixels > 255.5)))
        if clipped > 0 and not self._warned_clip:
            log.warning("%.1f%% of the input values are not pixels (outside 0..255 after un-normalizing); Core ML sees them clipped", 100 * clipped)
            self._warned_clip = True
        images = np.clip(np.rint(pixels), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
        return [{self.input_name: Image.fromarray(np.ascontiguousarray(img), "RGB")} for img in images]

    def infer_native(self, prepared: list[Any]) -> list[dict[str, Any]]:
        """One prediction per image through Core ML's batch API; returns Core ML's output dicts."""
        outputs = self.model.predict(prepared)
        return outputs if isinstance(outputs, list) else [outputs]

    def infer(self, batch: np.ndarray) -> np.ndarray:
        outputs = self.infer_native(self.prepare(batch))
        return np.stack([np.asarray(o[self.logits_name], dtype=np.float32).reshape(-1) for o in outputs])

    def close(self) -> None:
        self.model = None
