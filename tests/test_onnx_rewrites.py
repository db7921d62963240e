"""Export-time rewrites for ONNX Runtime are exact replacements of the modules they swap."""
import pytest
import torch

from lsnet import create_model, reparameterize
from lsnet.errors import UnknownOptionError
from lsnet.export.onnx_rewrites import (
    REWRITES,
    ConvBNLSConv,
    ResizeGateSqueezeExcite,
    parse_rewrites,
    rewrite_for_ort,
)
from lsnet.layers import LSConv, SqueezeExcite


def test_resize_gate_squeeze_excite_equals_the_original():
    torch.manual_seed(0)
    se = SqueezeExcite(32).eval()
    x = torch.randn(3, 32, 7, 5)
    torch.testing.assert_close(ResizeGateSqueezeExcite(se)(x), se(x), rtol=1e-6, atol=1e-6)


def test_rewritten_model_matches_and_original_is_untouched():
    torch.manual_seed(0)
    model = reparameterize(create_model("lsnet_t", img_size=(160, 128)))
    rewritten, notes = rewrite_for_ort(model)
    assert notes and sum(isinstance(m, ResizeGateSqueezeExcite) for m in rewritten.modules()) > 0
    assert sum(isinstance(m, ConvBNLSConv) for m in rewritten.modules()) > 0
    assert not any(isinstance(m, ResizeGateSqueezeExcite) for m in model.modules())
    x = torch.randn(2, 3, 160, 128)
    with torch.no_grad():
        torch.testing.assert_close(rewritten(x), model(x), rtol=1e-5, atol=1e-6)


def test_conv_bn_ls_conv_equals_the_original():
    torch.manual_seed(0)
    ls = LSConv(64).eval()
    with torch.no_grad():  # a BatchNorm that is not the identity, so that a wrong fold shows
        ls.bn.weight.uniform_(0.5, 1.5)
        ls.bn.bias.uniform_(-0.5, 0.5)
        ls.bn.running_mean.uniform_(-0.5, 0.5)
        ls.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(3, 64, 9, 7)
    rewritten = ConvBNLSConv(ls)
    assert isinstance(rewritten.bn, torch.nn.Conv2d)
    with torch.no_grad():
        torch.testing.assert_close(rewritten(x), ls(x), rtol=1e-5, atol=1e-5)


def test_every_ls_conv_and_squeeze_excite_is_rewritten():
    model = reparameterize(create_model("lsnet_s"))
    rewritten, notes = rewrite_for_ort(model)
    assert not any(type(m) in (LSConv, SqueezeExcite) for m in rewritten.modules())
    ls_count = sum(type(m) is LSConv for m in model.modules())
    assert f"LS conv output BatchNorm x{ls_count}: 1x1 depthwise Conv (residual Adds fused in the blocked layout)" in notes


def test_rewrites_are_chosen_by_name():
    model = reparameterize(create_model("lsnet_t"))
    only_se, notes = rewrite_for_ort(model, "squeeze-excite")
    assert len(notes) == 1 and notes[0].startswith("squeeze-excite x")
    assert any(type(m) is LSConv for m in only_se.modules())
    untouched, notes = rewrite_for_ort(model, "none")
    assert notes == [] and not any(isinstance(m, (ConvBNLSConv, ResizeGateSqueezeExcite)) for m in untouched.modules())
    assert parse_rewrites("all") == list(REWRITES)
    assert parse_rewrites(" ls-bn , squeeze-excite ") == ["ls-bn", "squeeze-excite"]


def test_unknown_rewrite_is_one_clear_error_with_a_hint():
    with pytest.raises(UnknownOptionError, match="unknown rewrite 'ls_bn'.*Did you mean 'ls-bn'"):
        parse_rewrites("squeeze-excite,ls_bn")
