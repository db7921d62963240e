"""Parameters, multiply-accumulates and stage shapes, counted the way the paper does.

MACs are counted on the reparameterized model (BN folded), one per multiply-add; SKA
counts as a KxK depthwise conv, attention counts its two matrix products.
"""
from dataclasses import dataclass

import torch
from torch import nn

from lsnet.attention import Attention
from lsnet.ska import SKA


@dataclass
class Profile:
    """Size and cost of a model at one input size."""

    params: int
    params_fused: int
    macs: int
    stage_shapes: list[tuple[int, ...]]


def count_macs(model: nn.Module, img_size: tuple[int, int]) -> int:
    """MACs of one image through ``model`` (normally the reparameterized one)."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() // out.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m: nn.Linear, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() // out.shape[0] * m.in_features

    def ska_hook(m: SKA, inp: tuple, _out: torch.Tensor) -> None:
        nonlocal total
        total += inp[0][0].numel() * m.kernel_size * m.kernel_size

    def attention_hook(m: Attention, inp: tuple, _out: torch.Tensor) -> None:
        nonlocal total
        positions = inp[0].shape[2] * inp[0].shape[3]
        total += m.num_heads * positions * positions * (m.key_dim + m.d)

    hooks = {nn.Conv2d: conv_hook, nn.Linear: linear_hook, SKA: ska_hook, Attention: attention_hook}
    handles = [m.register_forward_hook(hooks[type(m)]) for m in model.modules() if type(m) in hooks]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *img_size))
    finally:
        for h in handles:
            h.remove()
    return total


def profile(model: nn.Module) -> Profile:
    """Parameters (as built and fused), MACs and the four stage output shapes at the model's img_size."""
    from lsnet.factory import count_params
    from lsnet.reparam import reparameterize

    fused = reparameterize(model)
    with torch.no_grad():
        x = fused.patch_embed(torch.zeros(1, 3, *model.img_size))
        shapes = []
        for stage in fused.stages:
            x = stage(x)
            shapes.append(tuple(x.shape[1:]))
    return Profile(
        params=count_params(model),
        params_fused=count_params(fused),
        macs=count_macs(fused, model.img_size),
        stage_shapes=shapes,
    )
