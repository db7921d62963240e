"""SKA as K*K shifted slices of the zero-padded input, multiply-add; every tensor has rank <= 4.

This is the form Core ML, NNAPI and other mobile compilers take: only Pad, Slice,
Tile, Mul and Add on 4-D NCHW tensors.
"""
import torch
import torch.nn.functional as F

from lsnet.ska.registry import check_shapes, register_ska


@register_ska("shift", "K*K shifted slices of the padded input, multiply-add; all tensors rank <= 4")
def ska_shift(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Sum over taps of shifted(x) * tap weight tiled to every channel of its group."""
    groups = check_shapes(x, w_flat, kernel_size)
    _, c, h, width = x.shape
    taps = kernel_size * kernel_size
    pad = (kernel_size - 1) // 2
    x_pad = F.pad(x, (pad, pad, pad, pad))
    repeats = c // groups
    out = None
    for t in range(taps):
        i, j = divmod(t, kernel_size)
        w_t = w_flat[:, t::taps]  # (N, G, H, W): tap t of every group
        if repeats > 1:
            w_t = w_t.repeat(1, repeats, 1, 1)  # interleaved: channel c reads group c mod G
        term = x_pad[:, :, i : i + h, j : j + width] * w_t
        out = term if out is None else out + term
    return out
