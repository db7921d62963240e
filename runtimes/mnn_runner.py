"""MNN runner: an ``.mnn`` model in MNN's Module API on the CPU; no timing inside.

The model keeps the ONNX export's dynamic batch (any batch size per call). MNN prints its CPU features and
precision mode from native code; that goes to ``native_output_captured``, not the caller's stdout.
"""
import os
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file, require_cpu


class MNNRunner(Runner):
    """An MNN model on MNN's CPU backend at ``precision: high`` (FP32 compute, so results match PyTorch; MNN's
    ``low`` would compute in FP16/BF16 where the CPU has it). ``threads`` sets MNN's thread count (default: one per CPU)."""

    def __init__(self, path: str | Path, device: str = "cpu", *, threads: int | None = None) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar
        from lsnet.runtimes.native_output import native_output_captured

        require_cpu(device, "MNN")
        self.path = artifact_file(path, "MNN model", "pass the path of an exported .mnn file")
        with native_output_captured() as printed:
            mnn = require("MNN", "mnn", "running MNN models")
            try:
                runtime = mnn.nn.create_runtime_manager(({"backend": "CPU", "precision": "high", "numThread": threads or os.cpu_count() or 1},))
                self.module = mnn.nn.load_module_from_file(str(self.path), [], [], runtime_manager=runtime)
                name = self.module.get_info()["inputNames"][0]
                _, _, height, width = mnn.expr.load_as_dict(str(self.path))[name].shape
            except (RuntimeError, ValueError, TypeError, KeyError, IndexError, SystemError) as exc:  # SystemError: a file MNN cannot parse
                self.module = None
                printed.text = f"{type(exc).__name__}: {exc}"
        if self.module is None:
            raise ArtifactError(f"MNN cannot load {self.path} ({printed.last_line()}); re-export it with lsnet export.")
        self.expr = mnn.expr
        metadata = read_sidecar(self.path)
        fixed = metadata.get("input", {}).get("shape", ["batch"])[0]  # MNN keeps a dynamic batch but does not say so
        self.input_spec = InputSpec(name=name, shape=(fixed if isinstance(fixed, int) else None, 3, int(height), int(width)))
        self.info = RunnerInfo(runtime="mnn", device=device, precision=metadata.get("precision", "fp32"),
                               metadata={**metadata, "threads": threads})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one float batch and return float32 logits."""
        self.input_spec.check_batch(batch.shape[0])
        array = np.ascontiguousarray(batch, dtype=np.float32)
        logits: Any = self.module.forward(self.expr.const(array, list(array.shape), self.expr.NCHW))
        return np.array(logits.read(), dtype=np.float32).reshape(len(array), -1)

    def close(self) -> None:
        self.module = None
