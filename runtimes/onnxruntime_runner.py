"""ONNX Runtime runner: CPU or CUDA execution provider, session options exposed, no timing inside."""
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError, DeviceUnavailableError, UnknownOptionError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file

GRAPH_OPTIMIZATION_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "layout": "ORT_ENABLE_LAYOUT",
    "all": "ORT_ENABLE_ALL",
}
ONNX_TO_NUMPY = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64"}


def providers_for(ort: Any, device: str) -> list[str]:
    """Execution providers for ``device``; CUDA refuses with one line when this build cannot use it."""
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise DeviceUnavailableError(
                "--device cuda needs onnxruntime-gpu and an NVIDIA GPU; this onnxruntime has only "
                f"{', '.join(ort.get_available_providers())}. Use --device cpu or pip install onnxruntime-gpu."
            )
        index = device.partition(":")[2] or "0"
        return [("CUDAExecutionProvider", {"device_id": int(index)}), "CPUExecutionProvider"]
    raise UnknownOptionError(f"unknown device '{device}': use cpu or cuda.")


def session_options(ort: Any, threads: int | None, graph_optimization: str, spinning: bool | None,
                    profile_prefix: str | None) -> Any:
    """SessionOptions from plain arguments (threads = intra-op threads; None = ORT's default)."""
    from lsnet.choices import pick

    level = GRAPH_OPTIMIZATION_LEVELS[pick("graph optimization level", graph_optimization, GRAPH_OPTIMIZATION_LEVELS)]
    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if spinning is not None:
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return options


def check_providers(session: Any, device: str, path: Path) -> None:
    """Refuse a session that asked for CUDA but runs on the CPU: ONNX Runtime falls back silently when the CUDA
    provider cannot load (missing CUDA/cuDNN libraries, another CUDA version), and would be measured as a GPU."""
    if device.startswith("cuda") and "CUDAExecutionProvider" not in session.get_providers():
        raise DeviceUnavailableError(
            f"ONNX Runtime could not start its CUDA provider for {path} (it fell back to {', '.join(session.get_providers())});"
            " install the CUDA and cuDNN libraries that this onnxruntime-gpu needs, or use --device cpu."
        )


class OnnxRuntimeRunner(Runner):
    """An .onnx file in an ONNX Runtime InferenceSession; the sidecar goes into ``info.metadata``."""

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        *,
        providers: list[Any] | None = None,
        threads: int | None = None,
        graph_optimization: str = "all",
        spinning: bool | None = None,
        profile_prefix: str | None = None,
    ) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar

        ort = require("onnxruntime", "onnx", "running ONNX models")
        self.path = artifact_file(path, "ONNX model", "pass the path of an exported .onnx file")
        chosen = providers or providers_for(ort, device)
        options = session_options(ort, threads, graph_optimization, spinning, profile_prefix)
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=chosen)
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise ArtifactError(f"ONNX Runtime cannot load {self.path} ({str(exc).splitlines()[0][:200]}); re-export it with lsnet export.") from exc
        check_providers(self.session, device, self.path)
        self.device = device
        graph_input = self.session.get_inputs()[0]
        self.output_name = self.session.get_outputs()[0].name
        batch, channels, height, width = (d if isinstance(d, int) else None for d in graph_input.shape)
        dtype = ONNX_TO_NUMPY.get(graph_input.type, "float32")
        self.input_spec = InputSpec(name=graph_input.name, shape=(batch, channels or 3, height, width), dtype=dtype)
        metadata = read_sidecar(self.path)
        self.info = RunnerInfo(
            runtime="onnxruntime",
            device=device,
            precision=metadata.get("precision", "fp32"),
            metadata={**metadata, "providers": self.session.get_providers()},
        )

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one float batch and return float32 logits."""
        self.input_spec.check_batch(batch.shape[0])
        array = np.ascontiguousarray(batch, dtype=self.input_spec.dtype)
        (logits,) = self.session.run([self.output_name], {self.input_spec.name: array})
        return np.asarray(logits, dtype=np.float32)

    def prepare(self, batch: np.ndarray) -> Any:
        """An IOBinding with the input bound (on the device for CUDA) and the output on the same device."""
        ort = require("onnxruntime", "onnx")
        self.input_spec.check_batch(batch.shape[0])
        array = np.ascontiguousarray(batch, dtype=self.input_spec.dtype)
        kind, device_id = ("cuda", int(self.device.partition(":")[2] or 0)) if self.device.startswith("cuda") else ("cpu", 0)
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(self.input_spec.name, ort.OrtValue.ortvalue_from_numpy(array, kind, device_id))
        binding.bind_output(self.output_name, kind, device_id)
        return binding

    def infer_native(self, prepared: Any) -> Any:
        """Run a prepared IOBinding; outputs stay as OrtValues on the device (synchronous: the outputs are
        synchronized, whatever the session's run options say about the execution providers' streams)."""
        self.session.run_with_iobinding(prepared)
        prepared.synchronize_outputs()
        return prepared.get_outputs()

    def end_profiling(self) -> str | None:
        """Stop ORT's profiler (when enabled) and return the trace file it wrote."""
        return self.session.end_profiling() if self.session is not None else None

    def close(self) -> None:
        self.session = None
