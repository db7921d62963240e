"""The readable definition of SKA: one multiply-add per kernel tap."""
import torch
import torch.nn.functional as F

from lsnet.ska.registry import check_shapes, register_ska


@register_ska("reference", "readable definition: per-tap slices of the padded input (rank-5 weight view)")
def ska_reference(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """out[n,c,h,v] = sum_{i,j} x_pad[n,c,h+i,v+j] * w[n, c mod G, i*K+j, h, v]."""
    groups = check_shapes(x, w_flat, kernel_size)
    n, c, h, width = x.shape
    pad = (kernel_size - 1) // 2
    x_pad = F.pad(x, (pad, pad, pad, pad))
    w = w_flat.view(n, groups, kernel_size * kernel_size, h, width)
    w_per_channel = w.repeat(1, c // groups, 1, 1, 1)  # channel c reads group c mod G
    out = torch.zeros_like(x)
    for i in range(kernel_size):
        for j in range(kernel_size):
            out = out + x_pad[:, :, i : i + h, j : j + width] * w_per_channel[:, :, i * kernel_size + j]
    return out
