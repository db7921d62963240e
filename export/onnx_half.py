"""FP16 for the ONNX export: half weights and activations, numerically sensitive modules kept in FP32.

The conversion happens on the PyTorch model before tracing, so the exporter sees explicit casts
around the FP32 islands. The graph's input and output stay float32 (a cast at each end) so that
callers feed and read the same arrays as for the FP32 export; ``HALF_IO_DTYPE`` records that.
"""
import copy

import torch
from torch import nn

HALF_IO_DTYPE = "float32"


def fp32_island_types() -> tuple[type[nn.Module], ...]:
    """Modules run in FP32 inside an FP16 graph: GroupNorm (LKP), attention (softmax), squeeze-excite
    (a global mean over the whole feature map) and the classifier head (pooled mean + linear)."""
    from lsnet.attention import Attention
    from lsnet.layers import SqueezeExcite

    return (nn.GroupNorm, Attention, SqueezeExcite)


class Float32Island(nn.Module):
    """Runs ``module`` in FP32 on FP16 inputs and returns FP16."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module.float()

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.module(*(a.float() for a in args)).half()


class HalfClassifier(nn.Module):
    """FP32 in, FP16 body, FP32 head (mean pooling + linear) and FP32 out."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.model.forward_features(x.half())
        return self.model.forward_head(features.float())


def _wrap_islands(module: nn.Module, types: tuple[type[nn.Module], ...]) -> list[str]:
    """Replace every child of a type in ``types`` by a Float32Island, in place; returns their names."""
    wrapped = []
    for name, child in list(module.named_modules()):
        for child_name, grandchild in list(child.named_children()):
            if isinstance(grandchild, types):
                setattr(child, child_name, Float32Island(grandchild))
                wrapped.append(f"{name}.{child_name}" if name else child_name)
    return wrapped


def half_model(model: nn.Module) -> tuple[nn.Module, dict]:
    """A copy of ``model`` for FP16 export and a description of what stayed FP32."""
    body = copy.deepcopy(model).eval().half()
    heads = [n for n in ("head", "head_dist") if hasattr(body, n)]
    for name in heads:
        setattr(body, name, getattr(body, name).float())
    islands = _wrap_islands(body, fp32_island_types())
    kinds = sorted({type(m.module).__name__ for m in body.modules() if isinstance(m, Float32Island)})
    info = {
        "io_dtype": HALF_IO_DTYPE,
        "fp32_modules": kinds + (["classifier head"] if heads else []),
        "fp32_module_count": len(islands) + len(heads),
    }
    return HalfClassifier(body).eval(), info
