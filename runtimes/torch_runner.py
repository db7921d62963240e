"""PyTorch runner: an LSNet module, a model name, or a checkpoint file, on CPU or CUDA."""
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lsnet.errors import DeviceUnavailableError, UnknownOptionError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str) -> torch.device:
    """A torch device, refusing CUDA with one clear line when no GPU is present."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailableError("--device cuda needs an NVIDIA GPU with a CUDA build of PyTorch; none was found. Use --device cpu.")
    if not (device == "cpu" or device.startswith("cuda")):
        raise UnknownOptionError(f"unknown device '{device}': use cpu or cuda.")
    return torch.device(device)


def model_from_target(target: str | Path | nn.Module, img_size: int, ska: str | None) -> nn.Module:
    """An eval model from a module, a variant name, or a checkpoint (variant detected from its keys)."""
    from lsnet.checkpoint import read_state_dict
    from lsnet.variant_of import matching_variants
    from lsnet.errors import CheckpointMismatchError
    from lsnet.factory import create_model, list_models, set_ska

    if isinstance(target, nn.Module):
        model = target.eval()
    elif Path(str(target)).suffix in {".pth", ".pt", ".safetensors"}:
        fits = matching_variants(read_state_dict(target))
        if not fits:
            raise CheckpointMismatchError(f"{target} matches no LSNet variant; pass a checkpoint of {', '.join(list_models())}.")
        model = create_model(fits[0], img_size=img_size, checkpoint_path=target)
    else:
        model = create_model(str(target), img_size=img_size)
    return set_ska(model, ska) if ska else model


class TorchRunner(Runner):
    """PyTorch inference: eager, torch.compile, or CUDA-graph replay; fp32/fp16/bf16 weights or fp32 under autocast.

    ``reparameterize`` folds BN first (default).
    """

    def __init__(
        self,
        target: str | Path | nn.Module,
        device: str = "cpu",
        *,
        img_size: int = 224,
        ska: str | None = None,
        precision: str = "fp32",
        reparameterize: bool = True,
        compile: bool = False,
        channels_last: bool = False,
        threads: int | None = None,
        cuda_graph: bool = False,
        autocast: str | None = None,
    ) -> None:
        from lsnet.factory import ska_of
        from lsnet.reparam import reparameterize as fold

        if precision not in PRECISIONS:
            raise UnknownOptionError(f"unknown precision '{precision}' for PyTorch: use {', '.join(PRECISIONS)}.")
        if autocast is not None and (autocast not in PRECISIONS or autocast == "fp32" or precision != "fp32"):
            raise UnknownOptionError(f"autocast '{autocast}' needs fp32 weights and one of fp16, bf16.")
        if cuda_graph and compile:
            raise UnknownOptionError("use compile or cuda_graph, not both (torch.compile mode reduce-overhead captures CUDA graphs itself).")
        if threads:
            torch.set_num_threads(threads)
        self.device = resolve_device(device)
        if cuda_graph and self.device.type != "cuda":
            raise UnknownOptionError("CUDA graphs need --device cuda.")
        model = model_from_target(target, img_size, ska)
        self.num_classes = model.num_classes
        size = tuple(model.img_size)
        model = fold(model) if reparameterize else model
        self.dtype = PRECISIONS[precision]
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device, self.dtype, memory_format=self.memory_format).eval()
        self.forward = torch.compile(self.model) if compile else self.model
        self.autocast = PRECISIONS[autocast] if autocast else None
        self.graphs: dict[tuple[int, ...], CapturedGraph] | None = {} if cuda_graph else None
        runtime = "pytorch-compile" if compile else "pytorch-cudagraph" if cuda_graph else "pytorch"
        self.input_spec = InputSpec(name="input", shape=(None, 3, *size))
        self.info = RunnerInfo(
            runtime=runtime,
            device=str(self.device),
            precision=f"{autocast}-autocast" if autocast else precision,
            metadata={"variant": getattr(model, "name", None), "ska": ska_of(self.model), "channels_last": channels_last},
        )

    def prepare(self, batch: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        return tensor.to(self.device, self.dtype).contiguous(memory_format=self.memory_format)

    @torch.no_grad()
    def run_model(self, prepared: torch.Tensor) -> torch.Tensor:
        """One forward pass, under autocast when asked for."""
        if self.autocast is None:
            return self.forward(prepared)
        with torch.autocast(self.device.type, dtype=self.autocast, cache_enabled=False):  # no weight-cast cache: graph-capture safe
            return self.forward(prepared)

    @torch.no_grad()
    def infer_native(self, prepared: torch.Tensor) -> torch.Tensor:
        """Forward (or replay of the CUDA graph captured for this input shape), then synchronize.

        With CUDA graphs the returned tensor is the graph's static output: it is overwritten by the next call.
        """
        if self.graphs is None:
            out = self.run_model(prepared)
        else:
            key = tuple(prepared.shape)
            if key not in self.graphs:
                self.graphs[key] = CapturedGraph(self.run_model, prepared)
            out = self.graphs[key].replay(prepared)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return out

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.infer_native(self.prepare(batch)).float().cpu().numpy()

    def close(self) -> None:
        self.model = self.forward = self.graphs = None


class CapturedGraph:
    """A CUDA graph of one forward pass at one input shape; the first input tensor is the graph's static input."""

    WARMUP_CALLS = 3

    def __init__(self, forward: Callable[[torch.Tensor], torch.Tensor], example: torch.Tensor) -> None:
        self.static_input = example
        # streams and the capture belong to the current GPU: make it the input's (a runner on cuda:1 while
        # cuda:0 is current would otherwise warm up and capture on the wrong device)
        with torch.cuda.device(example.device):
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):  # kernels and workspaces are set up outside the capture
                for _ in range(self.WARMUP_CALLS):
                    forward(example)
            torch.cuda.current_stream().wait_stream(stream)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.static_output = forward(example)

    def replay(self, prepared: torch.Tensor) -> torch.Tensor:
        """Copy a new input into the static one (unless it is that tensor) and replay."""
        if prepared.data_ptr() != self.static_input.data_ptr():
            self.static_input.copy_(prepared)
        self.graph.replay()
        return self.static_output

