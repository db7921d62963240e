"""Export-time rewrites that keep ONNX Runtime's blocked (NCHWc) CPU layout unbroken.

ORT runs convolutions in a blocked channel layout and converts back to NCHW (ReorderOutput /
ReorderInput) around every op it cannot run blocked. Squeeze-excite as PyTorch writes it
(ReduceMean, then a broadcast Mul by an (N, C, 1, 1) gate) forces two such conversions per block
and pushes every following residual Add out of the blocked layout. Written as GlobalAveragePool
and a nearest Resize of the gate to (H, W) followed by a same-shape Mul, every op has a blocked
kernel. The result is mathematically identical; parity is checked after export as always.

``annotate_shapes`` stamps symbolic shapes on every tensor, so that ORT can prove that the two
inputs of a Mul/Add share the dynamic batch dimension (without that proof it reorders them).
"""
import copy
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lsnet.layers import SqueezeExcite

log = logging.getLogger(__name__)


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


def rewrite_for_ort(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """A copy of ``model`` with the layout-friendly modules swapped in, and what was rewritten."""
    model = copy.deepcopy(model)
    count = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is SqueezeExcite:
                setattr(module, name, ResizeGateSqueezeExcite(child))
                count += 1
    return model, [f"squeeze-excite x{count}: GlobalAveragePool + nearest Resize gate + same-shape Mul"] if count else []


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
