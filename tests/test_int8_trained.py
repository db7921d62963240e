"""INT8 with the trained fixture: the default gate passes and held-out top-1 stays within 1 point of FP32."""
import json
from dataclasses import replace

import pytest

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def int8_trained(trained_dir, tmp_path_factory):
    from lsnet import create_model
    from lsnet.export import export

    model = create_model("lsnet_t", num_classes=10, checkpoint_path=trained_dir / "lsnet_t_photos10.pth")
    model.pretrained_cfg = replace(model.pretrained_cfg, labels=tuple((trained_dir / "labels.txt").read_text().split()))
    out = tmp_path_factory.mktemp("int8_trained") / "lsnet_t_int8.onnx"
    return export(model, "onnx", output=out, int8=True, calib=str(trained_dir / "calib"), eval_folder=trained_dir / "heldout")


def test_default_int8_gate_passes_on_images_the_calibration_never_saw(int8_trained) -> None:
    int8 = json.loads(int8_trained.sidecar.read_text())["int8"]
    gate = int8["agreement_with_fp32"]
    assert gate["passed"] and int8["threshold"] == 0.95
    [case] = gate["cases"]
    assert case["case"] == "held-out folder images (40)" and case["top1_agreement"] >= 0.95
    assert int8["calibration"]["calibration_images"] == 160 and not int8["calibration"]["synthetic"]
    assert "ffn_in" in int8["kept_float"]


def test_held_out_top1_within_one_point_of_fp32(int8_trained) -> None:
    accuracy = json.loads(int8_trained.sidecar.read_text())["accuracy"]
    assert accuracy["images"] == 300 and accuracy["classes_matched_by"] == "name"
    assert accuracy["reference_top1"] > 0.7  # the trained model, classes matched by name (not folder order)
    assert accuracy["top1"] >= accuracy["reference_top1"] - 0.01
    assert accuracy["top1_agreement"] >= 0.95 and accuracy["passed"]
