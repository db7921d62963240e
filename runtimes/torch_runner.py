"""PyTorch runner: an LSNet module, a model name, or a checkpoint file, on CPU or CUDA."""
from pathlib import Path
from typing import Any

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
    from lsnet.detect import matching_variants
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
    """Eager (optionally compiled) PyTorch inference; ``reparameterize`` folds BN first (default)."""

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
    ) -> None:
        from lsnet.factory import ska_of
        from lsnet.reparam import reparameterize as fold

        if precision not in PRECISIONS:
            raise UnknownOptionError(f"unknown precision '{precision}' for PyTorch: use {', '.join(PRECISIONS)}.")
        if threads:
            torch.set_num_threads(threads)
        self.device = resolve_device(device)
        model = model_from_target(target, img_size, ska)
        self.num_classes = model.num_classes
        size = tuple(model.img_size)
        model = fold(model) if reparameterize else model
        self.dtype = PRECISIONS[precision]
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device, self.dtype, memory_format=self.memory_format).eval()
        self.forward = torch.compile(self.model) if compile else self.model
        self.input_spec = InputSpec(name="input", shape=(None, 3, *size))
        self.info = RunnerInfo(
            runtime="pytorch" + ("-compile" if compile else ""),
            device=str(self.device),
            precision=precision,
            metadata={"variant": getattr(model, "name", None), "ska": ska_of(self.model), "channels_last": channels_last},
        )

    def prepare(self, batch: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        return tensor.to(self.device, self.dtype).contiguous(memory_format=self.memory_format)

    @torch.no_grad()
    def infer_native(self, prepared: torch.Tensor) -> torch.Tensor:
        out = self.forward(prepared)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return out

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.infer_native(self.prepare(batch)).float().cpu().numpy()

    def close(self) -> None:
        self.model = self.forward = None

