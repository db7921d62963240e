"""SKA formulations: the fixture, each other, and the definition, over shapes, K, groups and dtypes."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lsnet
from lsnet.ska import ska

FORMULATIONS = list(lsnet.list_ska(device="cpu"))  # every formulation that runs on CPU, new ones included


def definition(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Literal loop form of the contract in the conformance README (float64)."""
    n, c, h, wd = x.shape
    g, taps = w.shape[1], w.shape[2]
    k = int(round(taps**0.5))
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros_like(x)
    for i in range(k):
        for j in range(k):
            out += xp[:, :, i : i + h, j : j + wd] * w[:, np.arange(c) % g, i * k + j]
    return out


@pytest.mark.parametrize("impl", FORMULATIONS)
def test_matches_conformance_fixture(impl, conformance_dir):
    data = np.load(conformance_dir / "ska.npz")
    out = ska(torch.from_numpy(data["x"]), torch.from_numpy(data["w"]), impl=impl)
    np.testing.assert_allclose(out.numpy(), data["out"], rtol=1e-12, atol=1e-12)


@st.composite
def ska_case(draw):
    k = draw(st.sampled_from([1, 3, 5]))
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 4))
    n = draw(st.integers(1, 3))
    h = draw(st.integers(1, 9))
    w = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, channels, h, w))
    weights = rng.standard_normal((n, groups, k * k, h, w))
    return x, weights


@settings(max_examples=60, deadline=None)
@given(ska_case())
def test_all_formulations_equal_definition_float64(case):
    x, w = case
    expected = definition(x, w)
    for impl in FORMULATIONS:
        out = ska(torch.from_numpy(x), torch.from_numpy(w), impl=impl).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10, err_msg=impl)


@settings(max_examples=20, deadline=None)
@given(ska_case(), st.sampled_from([torch.float32, torch.float16]))
def test_formulations_agree_in_low_precision(case, dtype):
    x, w = case
    expected = definition(x, w)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    for impl in FORMULATIONS:
        out = ska(torch.from_numpy(x).to(dtype), torch.from_numpy(w).to(dtype), impl=impl)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.double().numpy(), expected, rtol=tol, atol=tol * 10, err_msg=impl)


def test_interleaved_not_blocked_channel_mapping():
    """Channel c uses weight group c mod G: a blocked mapping must give a different answer."""
    x = torch.zeros(1, 4, 3, 3)
    x[0, 1, 1, 1] = 1.0  # channel 1 -> group 1 (interleaved, G=2); blocked would give group 0
    w = torch.zeros(1, 2, 9, 3, 3)
    w[0, 1, 4] = 2.0  # centre tap of group 1 only
    for impl in FORMULATIONS:
        assert ska(x, w, impl=impl)[0, 1, 1, 1].item() == 2.0


def test_cross_correlation_no_flip_weight_at_output_pixel():
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 0, 0] = 1.0  # top-left input pixel
    w = torch.zeros(1, 1, 9, 3, 3)
    w[0, 0, 0, 1, 1] = 5.0  # tap (i=0, j=0) at output (1, 1) reads x[0, 0]
    for impl in FORMULATIONS:
        out = ska(x, w, impl=impl)
        assert out[0, 0, 1, 1].item() == 5.0 and out.abs().sum().item() == 5.0


def test_unknown_formulation_suggests_close_match():
    with pytest.raises(lsnet.LsnetError, match="Did you mean 'shift'"):
        ska(torch.zeros(1, 8, 2, 2), torch.zeros(1, 1, 9, 2, 2), impl="shfit")


@pytest.mark.parametrize("bad_w", [(1, 3, 8, 4, 4), (1, 3, 9, 4, 5), (2, 3, 9, 4, 4)])
def test_bad_shapes_are_rejected(bad_w):
    with pytest.raises(ValueError):
        ska(torch.zeros(1, 8, 4, 4), torch.zeros(bad_w))


def test_shift_graph_has_rank_at_most_4():
    """The shift formulation never builds a tensor of rank > 4 (traced graph check)."""
    from lsnet.ska.registry import get_ska

    traced = torch.jit.trace(lambda x, w: get_ska("shift")(x, w, 3), (torch.randn(1, 16, 5, 5), torch.randn(1, 18, 5, 5)))
    ranks = [n.output().type().dim() for n in traced.graph.nodes() if n.outputs() and n.output().type().kind() == "TensorType"]
    assert ranks and max(r for r in ranks if r is not None) <= 4


def test_set_ska_switches_every_module():
    model = lsnet.create_model("lsnet_t")
    lsnet.set_ska(model, "unfold")
    assert lsnet.ska_of(model) == "unfold"
    assert {m.impl for m in model.modules() if isinstance(m, lsnet.ska.SKA)} == {"unfold"}
