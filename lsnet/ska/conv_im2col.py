"""SKA with the neighbourhood gather done by a convolution: few, large ops that runtimes fuse well.

A depthwise convolution with fixed one-hot KxK kernels (K*K outputs per channel) produces the
im2col tensor; channel ``c*K*K + t`` is tap ``t`` of channel ``c``. Because channel ``c = r*G + g``
(interleaved groups), that tensor *is* (N, C/G, G, K*K, H*W) after a reshape, and the flat LKP
weights are (N, 1, G, K*K, H*W): one broadcast multiply and one sum over the taps finish SKA.
Every tensor has rank <= 5; the graph has 1 Conv, 1 Mul, 1 ReduceSum and 3 Reshapes per SKA,
against about 45 nodes for the per-tap formulations.
"""
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

from lsnet.ska.registry import check_shapes, register_ska


@cache
def one_hot_kernels(channels: int, kernel_size: int) -> np.ndarray:
    """(C*K*K, 1, K, K) float32: output channel ``c*K*K + t`` picks tap ``t`` (row-major) of channel ``c``."""
    taps = kernel_size * kernel_size
    kernels = np.eye(taps, dtype=np.float32).reshape(taps, 1, kernel_size, kernel_size)
    kernels = np.tile(kernels, (channels, 1, 1, 1))
    return kernels


@register_ska("conv_im2col", "one-hot depthwise conv (im2col) + broadcast multiply + sum over taps; rank <= 5, 6 nodes")
def ska_conv_im2col(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Gather the KxK neighbourhoods with a convolution, weight them per pixel, sum over the taps."""
    groups = check_shapes(x, w_flat, kernel_size)
    n, c, h, width = x.shape
    taps = kernel_size * kernel_size
    # a numpy constant (not a cached tensor) so that tracing records it as a graph initializer
    kernels = torch.from_numpy(one_hot_kernels(c, kernel_size)).to(x.device, x.dtype)
    cols = F.conv2d(x, kernels, padding=(kernel_size - 1) // 2, groups=c)
    cols = cols.reshape(n, c // groups, groups, taps, h * width)
    w = w_flat.reshape(n, 1, groups, taps, h * width)
    return (cols * w).sum(dim=3).reshape(n, c, h, width)
