"""Small-Kernel Aggregation (SKA): interchangeable formulations behind one registry.

``ska(x, w, impl)`` is the public functional form with the official weight layout
``w`` of shape (N, G, K*K, H, W). ``SKA`` is the module the model uses; its
formulation can be switched at any time (``lsnet.set_ska``).
"""
import torch
from torch import nn

from lsnet.ska import conv_im2col, reference, shift, triton_ska, unfold  # noqa: F401  (register formulations; triton loads lazily)
from lsnet.ska.registry import get_ska, list_ska, register_ska

__all__ = ["SKA", "ska", "get_ska", "list_ska", "register_ska"]


def ska(x: torch.Tensor, w: torch.Tensor, impl: str = "reference") -> torch.Tensor:
    """Apply SKA: x (N,C,H,W), w (N,G,K*K,H,W) -> (N,C,H,W); channel c uses group c mod G."""
    if w.dim() != 5:
        raise ValueError(f"ska expects w of shape (N, G, K*K, H, W), got {tuple(w.shape)}")
    kernel_size = round(w.shape[2] ** 0.5)
    if kernel_size * kernel_size != w.shape[2]:
        raise ValueError(f"ska: {w.shape[2]} taps is not a square kernel")
    n, g, taps, h, width = w.shape
    return get_ska(impl)(x, w.reshape(n, g * taps, h, width), kernel_size)


class SKA(nn.Module):
    """SKA with a switchable formulation; takes the flat rank-4 weights from LKP."""

    def __init__(self, kernel_size: int = 3, impl: str = "reference") -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.impl = impl
        get_ska(impl)

    def forward(self, x: torch.Tensor, w_flat: torch.Tensor) -> torch.Tensor:
        return get_ska(self.impl)(x, w_flat, self.kernel_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, impl={self.impl!r}"
