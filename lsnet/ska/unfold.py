"""SKA as unfold (im2col) followed by a per-pixel multiply and a sum over taps."""
import torch
import torch.nn.functional as F

from lsnet.ska.registry import check_shapes, register_ska


@register_ska("unfold", "im2col (F.unfold) + multiply + sum over taps: a batched matmul, rank-5 tensors")
def ska_unfold(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Unfold the KxK neighbourhoods, weight them per pixel and sum over the taps."""
    groups = check_shapes(x, w_flat, kernel_size)
    n, c, h, width = x.shape
    taps = kernel_size * kernel_size
    cols = F.unfold(x, kernel_size, padding=(kernel_size - 1) // 2)  # (N, C*KK, H*W), channel-major
    cols = cols.view(n, c // groups, groups, taps, h * width)  # channel c = r*G + g
    w = w_flat.view(n, 1, groups, taps, h * width)
    return (cols * w).sum(dim=3).view(n, c, h, width)
