"""A seeded random initialisation with trained-like scales, for exports and tests without weights.

PyTorch's default init zeroes the last BatchNorm of every residual branch (as training
recipes do), so an untrained LSNet outputs logits of about 1e-6 and a parity check on it
proves little. ``realistic_init`` draws every tensor with the statistics of a trained network
instead: BatchNorm weights around 1 with non-trivial running statistics, small weights for
the BatchNorm closing each residual branch (so activations and attention logits stay O(1)),
fan-in-scaled conv/linear weights, and O(1) attention biases. Same seed, same weights.
"""
import logging

import torch
from torch import nn

log = logging.getLogger(__name__)

RANDOM_WEIGHTS = "random-init"  # the sidecar's "weights" value for the seeded random initialisation


def warn_random_weights(subject: str) -> None:
    """The one warning for a model or artifact with random weights (export, validate, predict, serve, demo)."""
    log.warning(
        "%s has random weights (no checkpoint given): its predictions are meaningless, while parity and speed "
        "are real. Pass --weights CHECKPOINT for a trained model.", subject,
    )

RESIDUAL_OUTPUT_BN = ("ffn.m.pw2.bn", "mixer.m.proj.1.bn", "mixer.bn")


@torch.no_grad()
def realistic_init(model: nn.Module, seed: int = 0) -> nn.Module:
    """Re-draw every parameter and BatchNorm statistic of ``model`` in place; returns it."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(torch.rand(t.shape, generator=gen) * (high - low) + low)

    def normal(t: torch.Tensor, std: float) -> None:
        t.copy_(torch.randn(t.shape, generator=gen) * std)

    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            closes_residual = ("." + name).endswith(tuple("." + m for m in RESIDUAL_OUTPUT_BN))
            uniform(module.weight, *((0.05, 0.15) if closes_residual else (0.5, 1.5)))
            normal(module.bias, 0.1)
            normal(module.running_mean, 0.1)
            uniform(module.running_var, 0.5, 1.5)
        elif isinstance(module, nn.GroupNorm):
            uniform(module.weight, 0.5, 1.5)
            normal(module.bias, 0.1)
        elif isinstance(module, (nn.Conv2d, nn.Linear)):
            normal(module.weight, module.weight[0].numel() ** -0.5)
            if module.bias is not None:
                normal(module.bias, 0.02)
        if hasattr(module, "attention_biases"):
            normal(module.attention_biases, 0.5)
    return model
