"""OpenVINO runner: an IR (.xml + .bin) or ONNX file compiled for an OpenVINO device; no timing inside."""
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError, DeviceUnavailableError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file

OV_TO_NUMPY = {"f32": "float32", "f16": "float16"}


def ov_device(core: Any, device: str) -> str:
    """OpenVINO's device name for ``device`` (cpu, gpu, npu, auto); refuses devices this machine lacks."""
    name = device.upper()
    if name == "AUTO" or name.split(".")[0] in core.available_devices or name in core.available_devices:
        return name
    raise DeviceUnavailableError(
        f"OpenVINO has no '{device}' device here (available: {', '.join(core.available_devices)}); use --device cpu."
    )


class OpenVINORunner(Runner):
    """An OpenVINO IR compiled on one device. FP32 inference precision by default so results match PyTorch
    (OpenVINO's CPU plugin otherwise runs BF16 on CPUs with AMX/AVX512-BF16); ``precision_hint`` changes it."""

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        *,
        threads: int | None = None,
        precision_hint: str = "f32",
        performance_hint: str = "LATENCY",
    ) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar

        ov = require("openvino", "openvino", "running OpenVINO models")
        self.path = artifact_file(path, "OpenVINO model", "pass the .xml of an exported model")
        if self.path.suffix.lower() == ".xml" and not self.path.with_suffix(".bin").is_file():
            raise ArtifactError(f"{self.path} has no weights file {self.path.with_suffix('.bin').name} beside it; copy both files.")
        core = ov.Core()
        target = ov_device(core, device)
        config: dict[str, Any] = {"PERFORMANCE_HINT": performance_hint}
        if target.startswith("CPU"):
            config["INFERENCE_PRECISION_HINT"] = precision_hint
            if threads:
                config["INFERENCE_NUM_THREADS"] = threads
        try:
            self.compiled = core.compile_model(core.read_model(str(self.path)), target, config)
        except RuntimeError as exc:
            raise ArtifactError(f"OpenVINO cannot load {self.path} ({str(exc).splitlines()[0][:200]}); re-export it with lsnet export.") from exc
        self.request = self.compiled.create_infer_request()
        port = self.compiled.inputs[0]
        dims = [d.get_length() if d.is_static else None for d in port.get_partial_shape()]
        self.input_spec = InputSpec(
            name=port.get_any_name(),
            shape=(dims[0], dims[1] or 3, dims[2], dims[3]),
            dtype=OV_TO_NUMPY.get(port.get_element_type().get_type_name(), "float32"),
        )
        metadata = read_sidecar(self.path)
        self.info = RunnerInfo(
            runtime="openvino",
            device=device,
            precision=metadata.get("precision", "fp32"),
            metadata={**metadata, "openvino_device": target, "inference_precision": precision_hint},
        )

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one float batch and return float32 logits."""
        self.input_spec.check_batch(batch.shape[0])
        array = np.ascontiguousarray(batch, dtype=self.input_spec.dtype)
        self.request.infer({0: array})
        return np.array(self.request.get_output_tensor(0).data, dtype=np.float32)

    def close(self) -> None:
        self.request = None
        self.compiled = None
