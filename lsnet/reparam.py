"""``reparameterize``: a folded copy of a model for inference and export.

Folded: every conv-BN pair, the RepVGG depthwise branches (3x3 + 1x1 + identity into
one 3x3), BN+Linear heads, and the two distillation heads into one averaged Linear.
Left as they are, because they cannot be folded:
- ``LSConv.bn``: it follows SKA, whose weights are computed per pixel from the input,
  and its per-channel scale differs between channels that share one weight group;
- ``LKP.norm`` (GroupNorm): its statistics depend on the input.
"""
import copy

import torch
from torch import nn

UNFOLDABLE = {
    "LSConv.bn": "follows SKA, whose per-pixel weights come from the input and are shared by channels with different BN scales",
    "LKP.norm": "GroupNorm statistics depend on the input",
}


def _fuse_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if hasattr(child, "fuse"):
            setattr(module, name, child.fuse())
        else:
            _fuse_children(child)


@torch.no_grad()
def _merge_distill_heads(model: nn.Module) -> None:
    """Replace (head(x) + head_dist(x)) / 2 by one Linear with the averaged weights."""
    head, head_dist = model.head, model.head_dist
    merged = nn.Linear(head.in_features, head.out_features, device=head.weight.device, dtype=head.weight.dtype)
    merged.weight.copy_((head.weight + head_dist.weight) / 2)
    merged.bias.copy_((head.bias + head_dist.bias) / 2)
    model.head = merged
    del model.head_dist
    model.distillation = False


def reparameterize(model: nn.Module) -> nn.Module:
    """Return a new eval-mode model with every foldable BatchNorm and branch folded; the input is untouched."""
    fused = copy.deepcopy(model).eval()
    _fuse_children(fused)
    if getattr(fused, "distillation", False) and isinstance(getattr(fused, "head", None), nn.Linear):
        _merge_distill_heads(fused)
    fused.reparameterized = True
    return fused


def remaining_batchnorms(model: nn.Module) -> list[str]:
    """Names of the BatchNorm modules a model still has (after reparameterize: only ``LSConv.bn``)."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

