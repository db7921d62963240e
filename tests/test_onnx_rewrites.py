"""Export-time rewrites for ONNX Runtime are exact replacements of the modules they swap."""
import torch

from lsnet import create_model, reparameterize
from lsnet.export.onnx_rewrites import ResizeGateSqueezeExcite, rewrite_for_ort
from lsnet.layers import SqueezeExcite


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
    assert not any(isinstance(m, ResizeGateSqueezeExcite) for m in model.modules())
    x = torch.randn(2, 3, 160, 128)
    with torch.no_grad():
        torch.testing.assert_close(rewritten(x), model(x), rtol=1e-5, atol=1e-6)
