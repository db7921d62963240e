"""Export-time rewrites that keep ONNX Runtime's blocked (NCHWc) CPU layout unbroken.

ORT runs convolutions in a blocked channel layout and converts back to NCHW (ReorderOutput /
ReorderInput) around every op it cannot run blocked. Squeeze-excite as PyTorch writes it
(ReduceMean, then a broadcast Mul by an (N, C, 1, 1) gate) forces two such conversions per block
and pushes every following residual Add out of the blocked layout. Written as GlobalAveragePool
and a nearest Resize of the gate to (H, W) followed by a same-shape Mul, every op has a blocked
kernel. Likewise the BatchNorm that follows SKA in an LS convolution has no blocked kernel when
its input comes from SKA's reshapes, which leaves the LS residual Add and the FFN's residual Add
after it in NCHW (a ReorderOutput, an Add and a ReorderInput each); written as the equal 1x1
depthwise convolution, ORT reorders SKA's output once and fuses both residual Adds into convolutions.
Every rewrite is mathematically identical; parity is checked after export as always.

``annotate_shapes`` stamps symbolic shapes on every tensor, so that ORT can prove that the two
inputs of a Mul/Add share the dynamic batch dimension (without that proof it reorders them).
"""
import copy
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lsnet.choices import suggest
from lsnet.errors import UnknownOptionError
from lsnet.fusion import bn_scale_shift
from lsnet.layers import LSConv, SqueezeExcite


class ResizeGateSqueezeExcite(SqueezeExcite):
    """SqueezeExcite with the same parameters: pooled by global average pooling, gate resized to (H, W)."""

    def __init__(self, se: SqueezeExcite) -> None:
        nn.Module.__init__(self)
        self.fc1, self.act, self.fc2 = se.fc1, se.act, se.fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2], x.shape[3]
        gate = self.fc2(self.act(self.fc1(F.adaptive_avg_pool2d(x, 1)))).sigmoid()
        gate = F.interpolate(gate, scale_factor=(float(height), float(width)), mode="nearest")
        return x * gate


class ConvBNLSConv(LSConv):
    """LSConv with the same parameters, its output BatchNorm (eval mode) written as a 1x1 depthwise conv."""

    def __init__(self, ls: LSConv) -> None:
        nn.Module.__init__(self)
        self.lkp, self.ska = ls.lkp, ls.ska
        scale, shift = bn_scale_shift(ls.bn)
        channels = scale.numel()
        self.bn = nn.Conv2d(channels, channels, 1, groups=channels)
        with torch.no_grad():
            self.bn.weight.copy_(scale.view(channels, 1, 1, 1))
            self.bn.bias.copy_(shift)


@dataclass(frozen=True)
class Rewrite:
    """One module swap: which module type it replaces, with what, and how the metadata describes it."""

    original: type
    replacement: type
    description: str  # "{}": how many modules were swapped


REWRITES: dict[str, Rewrite] = {
    "squeeze-excite": Rewrite(
        SqueezeExcite, ResizeGateSqueezeExcite, "squeeze-excite x{}: GlobalAveragePool + nearest Resize gate + same-shape Mul"
    ),
    "ls-bn": Rewrite(
        LSConv, ConvBNLSConv, "LS conv output BatchNorm x{}: 1x1 depthwise Conv (residual Adds fused in the blocked layout)"
    ),
}


def parse_rewrites(text: str) -> list[str]:
    """'all', 'none' or a comma-separated list of rewrite names -> the names, checked."""
    text = text.strip().lower()
    if text == "all":
        return list(REWRITES)
    if text == "none":
        return []
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in REWRITES:
            raise UnknownOptionError(
                f"unknown rewrite '{name}': use all, none or a comma list of {', '.join(REWRITES)}.{suggest(name, REWRITES)}"
            )
    return names


def rewrite_for_ort(model: nn.Module, rewrites: str = "all") -> tuple[nn.Module, list[str]]:
    """A copy of ``model`` with the chosen layout-friendly modules swapped in, and what was rewritten."""
    chosen = {REWRITES[name].original: REWRITES[name] for name in parse_rewrites(rewrites)}
    model = copy.deepcopy(model)
    counts = dict.fromkeys(chosen, 0)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) in chosen:
                setattr(module, name, chosen[type(child)].replacement(child))
                counts[type(child)] += 1
    return model, [chosen[kind].description.format(count) for kind, count in counts.items() if count]


def annotate_shapes(path: Path, notes: list[str]) -> bool:
    """Run ONNX Runtime's symbolic shape inference on the file in place; keep the graph as is on failure."""
    import onnx
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    try:
        inferred = SymbolicShapeInference.infer_shapes(onnx.load(str(path)), auto_merge=True)
    except Exception as exc:  # the tool raises plain Exceptions on graphs it cannot follow
        notes.append(f"symbolic shape inference failed ({type(exc).__name__}); shapes left to the runtime")
        return False
    onnx.save(inferred, str(path))
    return True
