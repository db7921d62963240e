"""INT8 with the trained fixture: the default gate passes and held-out top-1 stays within 1 point of FP32."""

import pytest

from cli_helpers import export_trained_int8

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def int8_trained(trained_dir, tmp_path_factory):
    """The acceptance command, with the held-out folder as --eval; (process, sidecar)."""
    return export_trained_int8(trained_dir, tmp_path_factory.mktemp("int8_trained") / "lsnet_t_int8.onnx")


def test_default_int8_gate_passes_on_images_the_calibration_never_saw(int8_trained) -> None:
    proc, sidecar = int8_trained
    assert "INT8 vs FP32 on held-out folder images (40): top-1 agreement" in proc.stdout
    int8 = sidecar["int8"]
    gate = int8["agreement_with_fp32"]
    assert gate["passed"] and int8["threshold"] == 0.95
    [case] = gate["cases"]
    assert case["case"] == "held-out folder images (40)" and case["top1_agreement"] >= 0.95
    assert int8["calibration"]["calibration_images"] == 160 and not int8["calibration"]["synthetic"]
    assert "ffn_in" in int8["kept_float"]


def test_held_out_top1_within_one_point_of_fp32(int8_trained) -> None:
    proc, sidecar = int8_trained
    assert "held-out accuracy (300 images" in proc.stdout
    assert sidecar["labels"][9] == "coins" and sidecar["num_classes"] == 10
    accuracy = sidecar["accuracy"]
    assert accuracy["images"] == 300 and accuracy["classes_matched_by"] == "name"
    assert accuracy["reference_top1"] > 0.7  # the trained model, classes matched by name (not folder order)
    assert accuracy["top1"] >= accuracy["reference_top1"] - 0.01
    assert accuracy["top1_agreement"] >= 0.95 and accuracy["passed"]
