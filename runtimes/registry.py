"""``open_runner``: pick the runtime by artifact suffix (or a model object / model name)."""
import importlib
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.choices import pick
from lsnet.errors import UnknownOptionError
from lsnet.runtimes.base import Runner
from lsnet.runtimes.model_repository import resolve_artifact

# suffix -> "module:class" of the runner; imported lazily so heavy runtimes load only when used
RUNNERS: dict[str, str] = {
    ".onnx": "lsnet.runtimes.onnxruntime_runner:OnnxRuntimeRunner",
    ".engine": "lsnet.runtimes.tensorrt_runner:TensorRTRunner",
    ".plan": "lsnet.runtimes.tensorrt_runner:TensorRTRunner",
    ".mlpackage": "lsnet.runtimes.coreml_runner:CoreMLRunner",
    ".mlmodel": "lsnet.runtimes.coreml_runner:CoreMLRunner",
    ".xml": "lsnet.runtimes.openvino_runner:OpenVINORunner",
    ".tflite": "lsnet.runtimes.litert_runner:LiteRTRunner",
    ".pte": "lsnet.runtimes.executorch_runner:ExecuTorchRunner",
    ".param": "lsnet.runtimes.ncnn_runner:NcnnRunner",
    ".mnn": "lsnet.runtimes.mnn_runner:MNNRunner",
    ".pth": "lsnet.runtimes.torch_runner:TorchRunner",
    ".pt": "lsnet.runtimes.torch_runner:TorchRunner",
    ".safetensors": "lsnet.runtimes.torch_runner:TorchRunner",
}


def runner_class(target: str | Path) -> type[Runner]:
    """The runner class for an artifact path, by suffix (a Triton model folder by its model file's)."""
    suffix = resolve_artifact(target).suffix.lower()
    spec = RUNNERS[pick("artifact type", suffix, RUNNERS, UnknownOptionError)] if suffix else None
    if spec is None:
        raise UnknownOptionError(f"cannot tell the runtime of '{target}': use a file ending in {', '.join(RUNNERS)}.")
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)


def open_runner(target: str | Path | nn.Module, device: str = "cpu", **options: Any) -> Runner:
    """Open ``target`` (artifact path, Triton model or version folder, model name, or nn.Module) in the matching runtime."""
    from lsnet.runtimes.torch_runner import TorchRunner
    from lsnet.variants import VARIANTS

    if isinstance(target, nn.Module) or (isinstance(target, str) and target in VARIANTS):
        return TorchRunner(target, device=device, **options)
    target = resolve_artifact(target)
    return runner_class(target)(target, device=device, **options)
