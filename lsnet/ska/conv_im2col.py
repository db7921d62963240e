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


def one_hot_weights(channels: int, kernel_size: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The one-hot kernels as a tensor on ``device``.

    On the CPU, and while tracing for ONNX, a fresh tensor from the numpy constant (tracing records it as a
    graph initializer). On a GPU, one cached tensor per (shape, device, dtype): a host-to-device copy in every
    forward would synchronize each SKA and cannot be captured into a CUDA graph.
    """
    if device.type == "cpu" or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        return torch.from_numpy(one_hot_kernels(channels, kernel_size)).to(device, dtype)
    return _device_weights(channels, kernel_size, device, dtype)


@cache
def _device_weights(channels: int, kernel_size: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(one_hot_kernels(channels, kernel_size)).to(device, dtype)


@register_ska("conv_im2col", "one-hot depthwise conv (im2col) + broadcast multiply + sum over taps; rank <= 5, 6 nodes")
def ska_conv_im2col(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Gather the KxK neighbourhoods with a convolution, weight them per pixel, sum over the taps."""
    groups = check_shapes(x, w_flat, kernel_size)
    n, c, h, width = x.shape
    taps = kernel_size * kernel_size
    kernels = one_hot_weights(c, kernel_size, x.device, x.dtype)
    cols = F.conv2d(x, kernels, padding=(kernel_size - 1) // 2, groups=c)
    cols = cols.reshape(n, c // groups, groups, taps, h * width)
    w = w_flat.reshape(n, 1, groups, taps, h * width)
    return (cols * w).sum(dim=3).reshape(n, c, h, width)
