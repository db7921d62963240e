"""The table of SKA formulations: name -> function(x, w_flat, kernel_size) -> out.

Every formulation takes the weights in the flat, rank-4 layout the LKP branch
produces: ``w_flat`` of shape (N, G*K*K, H, W) where channel ``g*K*K + t`` holds
tap ``t`` (row-major, ``t = i*K + j``) of weight group ``g``; input channel ``c``
uses group ``c mod G`` (interleaved).
"""
from collections.abc import Callable

import torch

from lsnet.choices import pick
from lsnet.errors import UnknownOptionError

SkaFn = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]

_FORMULATIONS: dict[str, SkaFn] = {}
_DESCRIPTIONS: dict[str, str] = {}
_DEVICES: dict[str, tuple[str, ...]] = {}
ANY_DEVICE = ("cpu", "cuda", "mps")


def register_ska(name: str, description: str, devices: tuple[str, ...] = ANY_DEVICE) -> Callable[[SkaFn], SkaFn]:
    """Decorator that adds a formulation to the table under ``name``; ``devices`` are the device types it runs on."""

    def add(fn: SkaFn) -> SkaFn:
        _FORMULATIONS[name] = fn
        _DESCRIPTIONS[name] = description
        _DEVICES[name] = tuple(devices)
        return fn

    return add


def list_ska(device: str | None = None) -> dict[str, str]:
    """Names of the registered formulations with a one-line description each; only those running on the
    device type ``device`` ("cpu", "cuda", ...) when given."""
    return {name: text for name, text in _DESCRIPTIONS.items() if device is None or device in _DEVICES[name]}


def get_ska(name: str) -> SkaFn:
    """The formulation registered as ``name``; unknown names raise with a close-match hint."""
    return _FORMULATIONS[pick("SKA formulation", name, _FORMULATIONS, UnknownOptionError)]


def check_shapes(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> int:
    """Validate SKA operand shapes and return the number of weight groups G."""
    if x.dim() != 4 or w_flat.dim() != 4:
        raise ValueError(f"SKA expects 4-D x and flat w, got {tuple(x.shape)} and {tuple(w_flat.shape)}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"SKA kernel size must be odd and positive, got {kernel_size}")
    taps = kernel_size * kernel_size
    n, c, h, w = x.shape
    if w_flat.shape[0] != n or w_flat.shape[2:] != x.shape[2:] or w_flat.shape[1] % taps:
        raise ValueError(f"SKA weight shape {tuple(w_flat.shape)} does not fit x {tuple(x.shape)} and K={kernel_size}")
    groups = w_flat.shape[1] // taps
    if groups == 0 or c % groups:
        raise ValueError(f"SKA: {c} channels cannot share {groups} weight groups")
    return groups
