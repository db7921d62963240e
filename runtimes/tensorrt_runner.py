"""TensorRT runner: a serialized engine run with PyTorch CUDA tensors as I/O buffers (named-tensor API).

Before deserializing, the sidecar's TensorRT version, GPU and compute capability are compared with this
machine (engines are not portable). ``cuda_graph=True`` captures one CUDA graph per input shape, each in
its own execution context, and replays it. No timing inside.
"""
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from lsnet.errors import ArtifactError, DeviceUnavailableError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file

TRT_TO_TORCH = {"FLOAT": torch.float32, "HALF": torch.float16, "BF16": torch.bfloat16, "INT8": torch.int8,
                "INT32": torch.int32, "INT64": torch.int64, "BOOL": torch.bool, "UINT8": torch.uint8}


class EngineLoadError(ArtifactError):
    """A file TensorRT cannot deserialize."""


def torch_dtype(trt: ModuleType, dtype: Any) -> torch.dtype:
    """The torch dtype of a TensorRT DataType."""
    for name, torch_type in TRT_TO_TORCH.items():
        if getattr(trt.DataType, name, None) == dtype:
            return torch_type
    raise EngineLoadError(f"this engine uses the TensorRT type {dtype}, which lsnet cannot feed; re-export it with lsnet export.")


def cuda_device(device: str) -> torch.device:
    """The CUDA device to run on; TensorRT has no CPU execution."""
    from lsnet.runtimes.torch_runner import resolve_device

    if not device.startswith("cuda"):
        raise DeviceUnavailableError(f"TensorRT engines run only on an NVIDIA GPU, not on '{device}': use --device cuda.")
    resolved = resolve_device(device)
    return torch.device("cuda", resolved.index if resolved.index is not None else torch.cuda.current_device())


class _Graph:
    """One captured execution for a fixed input shape: its own context, static buffers and CUDA graph."""

    def __init__(self, engine: Any, input_name: str, output_name: str, shape: tuple[int, ...],
                 in_dtype: torch.dtype, out_dtype: torch.dtype, device: torch.device) -> None:
        self.context = engine.create_execution_context()
        self.input = torch.empty(shape, dtype=in_dtype, device=device)
        self.context.set_input_shape(input_name, shape)
        self.output = torch.empty(tuple(self.context.get_tensor_shape(output_name)), dtype=out_dtype, device=device)
        self.context.set_tensor_address(input_name, self.input.data_ptr())
        self.context.set_tensor_address(output_name, self.output.data_ptr())
        stream = torch.cuda.Stream(device)
        with torch.cuda.stream(stream):
            _execute(self.context, stream)  # one run outside capture lets TensorRT finish its lazy setup
            stream.synchronize()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph, stream=stream):
                _execute(self.context, torch.cuda.current_stream(device))

    def run(self, batch: torch.Tensor) -> torch.Tensor:
        self.input.copy_(batch)
        self.graph.replay()
        return self.output


def _execute(context: Any, stream: torch.cuda.Stream) -> None:
    if not context.execute_async_v3(stream.cuda_stream):
        raise RuntimeError("TensorRT execute_async_v3 failed; see the TensorRT log above")


class TensorRTRunner(Runner):
    """A .engine/.plan file on one CUDA device; numpy in/out through ``infer``, CUDA tensors via ``infer_native``."""

    def __init__(self, path: str | Path, device: str = "cuda", *, cuda_graph: bool = False) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar
        from lsnet.runtimes.tensorrt_env import check_engine_compatible, engine_environment, require_tensorrt_gpu

        self.path = artifact_file(path, "TensorRT engine", "pass the path of an exported .engine file")
        trt = require_tensorrt_gpu("TensorRT engines")
        self.device = cuda_device(device)
        metadata = read_sidecar(self.path)
        check_engine_compatible(metadata.get("tensorrt"), engine_environment(trt, self.device), self.path)
        with torch.cuda.device(self.device):
            self._logger = trt.Logger(trt.Logger.WARNING)
            self._runtime = trt.Runtime(self._logger)
            self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
            if self.engine is None:
                raise EngineLoadError(
                    f"TensorRT {trt.__version__} cannot load {self.path}: it is not an engine or was built by another "
                    "TensorRT version or GPU; rebuild it here with lsnet export MODEL --format trt."
                )
            self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if n not in inputs]
        if len(inputs) != 1 or len(outputs) != 1:
            raise EngineLoadError(f"{self.path} has inputs {inputs} and outputs {outputs}; lsnet runs one image input and one logits output.")
        self.input_name, self.output_name = inputs[0], outputs[0]
        self.input_dtype = torch_dtype(trt, self.engine.get_tensor_dtype(self.input_name))
        self.output_dtype = torch_dtype(trt, self.engine.get_tensor_dtype(self.output_name))
        self.input_spec = self._input_spec()
        self.cuda_graph = cuda_graph
        self._graphs: dict[tuple[int, ...], _Graph] = {}
        self.info = RunnerInfo(
            runtime="tensorrt" + ("-cudagraph" if cuda_graph else ""),
            device=str(self.device),
            precision=metadata.get("precision", "fp32"),
            metadata={**metadata, "tensorrt_runtime": trt.__version__},
        )

    def _input_spec(self) -> InputSpec:
        """Name, shape and batch range from the engine (its first optimization profile for a dynamic batch)."""
        shape = tuple(self.engine.get_tensor_shape(self.input_name))
        if shape[0] >= 0:
            return InputSpec(self.input_name, shape, str(self.input_dtype).removeprefix("torch."), shape[0], shape[0])
        low, _, high = (tuple(s) for s in self.engine.get_tensor_profile_shape(self.input_name, 0))
        return InputSpec(self.input_name, (None, *shape[1:]), str(self.input_dtype).removeprefix("torch."), low[0], high[0])

    def prepare(self, batch: np.ndarray) -> torch.Tensor:
        """Copy a numpy batch to the GPU in the engine's input dtype."""
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        return tensor.to(self.device, self.input_dtype, non_blocking=False).contiguous()

    def infer_native(self, prepared: torch.Tensor) -> torch.Tensor:
        """Run a GPU batch; returns the GPU output (a reused buffer in CUDA-graph mode). Synchronous."""
        self.input_spec.check_batch(int(prepared.shape[0]))
        prepared = prepared.to(self.device, self.input_dtype).contiguous()
        shape = tuple(prepared.shape)
        with torch.cuda.device(self.device):
            if self.cuda_graph:
                if shape not in self._graphs:
                    self._graphs[shape] = _Graph(self.engine, self.input_name, self.output_name, shape,
                                                 self.input_dtype, self.output_dtype, self.device)
                output = self._graphs[shape].run(prepared)
            else:
                output = self._run(prepared)
            torch.cuda.current_stream(self.device).synchronize()
        return output

    def _run(self, prepared: torch.Tensor) -> torch.Tensor:
        """Plain enqueue on PyTorch's current stream with freshly allocated output."""
        if not self.context.set_input_shape(self.input_name, tuple(prepared.shape)):
            raise RuntimeError(f"TensorRT refused input shape {tuple(prepared.shape)}")
        output = torch.empty(tuple(self.context.get_tensor_shape(self.output_name)), dtype=self.output_dtype, device=self.device)
        self.context.set_tensor_address(self.input_name, prepared.data_ptr())
        self.context.set_tensor_address(self.output_name, output.data_ptr())
        _execute(self.context, torch.cuda.current_stream(self.device))
        return output

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.infer_native(self.prepare(batch)).float().cpu().numpy()

    def close(self) -> None:
        self._graphs.clear()
        self.context = self.engine = self._runtime = None
