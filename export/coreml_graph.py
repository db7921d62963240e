"""The Core ML view of an LSNet: image in 0..1, normalization baked in, probabilities and logits out.

Everything here is plain PyTorch so that it can be traced, exported to ONNX as a numerical proxy,
and tested without coremltools.
"""
import copy
import warnings
from collections.abc import Sequence

import torch
from torch import nn

from lsnet.errors import UnknownOptionError

MAX_NEURAL_ENGINE_RANK = 4  # 4-D NCHW tensors map onto the Neural Engine; rank 5 falls back, rank > 5 fails


class GroupNorm4D(nn.Module):
    """``nn.GroupNorm`` written with rank-4 tensors only.

    coremltools lowers ``aten::group_norm`` through a rank-5 reshape (N, G, C/G, H, W); this
    computes the same statistics over a (N, G, C/G, H*W) view so the graph stays 4-D.
    """

    def __init__(self, norm: nn.GroupNorm) -> None:
        super().__init__()
        self.num_groups = norm.num_groups
        self.eps = norm.eps
        channels = norm.num_channels
        weight = norm.weight if norm.affine else torch.ones(channels)
        bias = norm.bias if norm.affine else torch.zeros(channels)
        self.register_buffer("weight", weight.detach().clone().view(1, channels, 1, 1))
        self.register_buffer("bias", bias.detach().clone().view(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        grouped = x.reshape(n, self.num_groups, c // self.num_groups, h * w)
        mean = grouped.mean(dim=(2, 3), keepdim=True)
        centred = grouped - mean
        var = (centred * centred).mean(dim=(2, 3), keepdim=True)
        normed = (centred * torch.rsqrt(var + self.eps)).reshape(n, c, h, w)
        return normed * self.weight + self.bias


def with_rank4_group_norms(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose GroupNorms are replaced by :class:`GroupNorm4D`."""
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.GroupNorm):
                setattr(module, name, GroupNorm4D(child))
    return model


class CoreMLClassifier(nn.Module):
    """Takes RGB in 0..1 (Core ML's image input scaled by 1/255), applies (x - mean) / std, runs the model.

    Returns ``(probabilities, logits)``: the classifier label and Vision read the softmax, parity
    checks and runners read the raw logits.
    """

    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("inv_std", 1.0 / torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    @property
    def img_size(self) -> tuple[int, int]:
        return tuple(self.model.img_size)

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        """Raw logits of an RGB batch in 0..1."""
        return self.model((image - self.mean) * self.inv_std)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.logits(image)
        return logits.softmax(dim=-1), logits


class ImageLogits(nn.Module):
    """The Core ML graph with the logits output only: what the ONNX numerical proxy exports."""

    def __init__(self, classifier: CoreMLClassifier) -> None:
        super().__init__()
        self.model = classifier

    @property
    def img_size(self) -> tuple[int, int]:
        return self.model.img_size

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.logits(image)


def coreml_classifier(model: nn.Module) -> CoreMLClassifier:
    """The traceable Core ML wrapper of a (reparameterized) LSNet, normalization from its pretrained_cfg."""
    cfg = model.pretrained_cfg
    return CoreMLClassifier(with_rank4_group_norms(model), cfg.mean, cfg.std).eval()


def trace(module: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """TorchScript trace with the shape-check TracerWarnings silenced (shapes are fixed on purpose).

    torch 2.13 marks ``torch.jit.trace`` deprecated; coremltools 9.0 still converts TorchScript
    through its most complete frontend, so the notice is silenced here too.
    """
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.trace.* is deprecated", category=DeprecationWarning)
        return torch.jit.trace(module, example, check_trace=False)


def max_tensor_rank(traced: torch.jit.ScriptModule) -> int:
    """Largest rank of any tensor value in a traced graph."""
    rank = 0
    for node in traced.inlined_graph.nodes():
        for value in node.outputs():
            kind = value.type()
            if isinstance(kind, torch._C.TensorType) and kind.dim() is not None:
                rank = max(rank, kind.dim())
    return rank


def check_rank(traced: torch.jit.ScriptModule, ska: str) -> int:
    """Refuse graphs with tensors above rank 4 (the SKA formulation decides); returns the max rank."""
    rank = max_tensor_rank(traced)
    if rank > MAX_NEURAL_ENGINE_RANK:
        raise UnknownOptionError(
            f"--ska {ska} builds rank-{rank} tensors, which keep Core ML off the Neural Engine "
            f"(and rank > 5 cannot be converted at all); use --ska shift, whose tensors are all rank <= 4."
        )
    return rank
