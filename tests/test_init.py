"""The seeded realistic initialisation used when no weights are given."""
import torch

import lsnet
from lsnet.init import realistic_init


def _logits(seed: int) -> torch.Tensor:
    model = realistic_init(lsnet.create_model("lsnet_t"), seed)
    with torch.no_grad():
        return model(torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0)))


def test_same_seed_same_weights_other_seed_other_weights():
    assert torch.equal(_logits(0), _logits(0))
    assert not torch.allclose(_logits(0), _logits(1))


def test_logits_are_order_one_unlike_default_init():
    default = lsnet.create_model("lsnet_t")
    with torch.no_grad():
        tiny = default(torch.randn(2, 3, 224, 224)).std().item()
    realistic = _logits(0).std().item()
    assert tiny < 1e-3 < 0.05 < realistic < 20  # default init closes residual branches with zero BN weights


def test_every_variant_stays_finite_and_non_saturated():
    for name in ("lsnet_s_distill", "lsnet_b"):
        model = realistic_init(lsnet.create_model(name), 0)
        with torch.no_grad():
            out = model(torch.randn(1, 3, 224, 224))
        assert torch.isfinite(out).all() and 0.05 < out.std().item() < 20
