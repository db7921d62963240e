"""The fusion math: fold eval-mode BatchNorm into the neighbouring conv or linear layer."""
import torch
from torch import nn


def bn_scale_shift(bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (scale, shift) such that bn(y) == y * scale + shift in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


@torch.no_grad()
def fuse_conv_bn(
    weight: torch.Tensor, bias: torch.Tensor | None, bn: nn.modules.batchnorm._BatchNorm
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of one conv equal to conv(weight, bias) followed by ``bn``."""
    scale, shift = bn_scale_shift(bn)
    fused_bias = shift if bias is None else bias * scale + shift
    return weight * scale.view(-1, *([1] * (weight.dim() - 1))), fused_bias


@torch.no_grad()
def fuse_bn_into_linear(
    bn: nn.modules.batchnorm._BatchNorm, weight: torch.Tensor, bias: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of one linear equal to ``bn`` followed by linear(weight, bias)."""
    scale, shift = bn_scale_shift(bn)
    return weight * scale[None, :], bias + weight @ shift
