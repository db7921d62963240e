"""LiteRT runner: a ``.tflite`` model in ai-edge-litert's Interpreter (XNNPACK CPU delegate); no timing inside."""
from pathlib import Path

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file, require_cpu
from lsnet.runtimes.native_output import chatter_to_debug


class LiteRTRunner(Runner):
    """A .tflite model in the LiteRT interpreter on the CPU. XNNPACK is LiteRT's default CPU delegate and takes
    every op it supports; ``threads`` sets the interpreter's (and XNNPACK's) thread count. An integer model's int8
    input and output (``lsnet export --format litert --int8``) are quantized and dequantized here with the tensors'
    scale and zero point, so callers pass float images and get float logits from every LiteRT model."""

    def __init__(self, path: str | Path, device: str = "cpu", *, threads: int | None = None) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar

        with chatter_to_debug("ai-edge-litert"):
            interpreter = require("ai_edge_litert.interpreter", "litert", "running LiteRT models")
        require_cpu(device, "LiteRT")
        self.path = artifact_file(path, "LiteRT model", "pass the path of an exported .tflite file")
        try:
            with chatter_to_debug("ai-edge-litert"):  # "Created TensorFlow Lite XNNPACK delegate for CPU."
                self.interpreter = interpreter.Interpreter(model_path=str(self.path), num_threads=threads)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ArtifactError(f"LiteRT cannot load {self.path} ({str(exc).splitlines()[0][:200]}); re-export it with lsnet export.") from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        batch, channels, height, width = (int(d) for d in self.input["shape"])
        self.input_spec = InputSpec(name=self.input["name"], shape=(batch, channels, height, width), dtype="float32")
        metadata = read_sidecar(self.path)
        self.info = RunnerInfo(runtime="litert", device=device, precision=metadata.get("precision", "fp32"),
                               metadata={**metadata, "threads": threads})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one float batch and return float32 logits."""
        self.input_spec.check_batch(batch.shape[0])
        self.interpreter.set_tensor(self.input["index"], to_tensor(batch, self.input))
        self.interpreter.invoke()
        return from_tensor(self.interpreter.get_tensor(self.output["index"]), self.output)

    def close(self) -> None:
        self.interpreter = None


def to_tensor(batch: np.ndarray, detail: dict) -> np.ndarray:
    """``batch`` in the dtype of the input tensor ``detail``: int8/uint8 inputs are quantized with its scale and zero point."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind not in "iu":
        return np.ascontiguousarray(batch, dtype=dtype)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(batch / scale) + zero_point, info.min, info.max).astype(dtype)


def from_tensor(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float32 values of the output tensor ``detail``: quantized outputs are dequantized with its scale and zero point."""
    if np.dtype(detail["dtype"]).kind not in "iu":
        return np.array(values, dtype=np.float32)
    scale, zero_point = detail["quantization"]
    return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)
