"""LiteRT INT8 with the trained fixture: the gate passes on the held-out split of calib/, and held-out top-1 of the
integer .tflite stays within 1 point of PyTorch FP32 on the 300-image heldout/ folder."""

import pytest

from cli_helpers import export_trained_int8

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert.interpreter")
pytest.importorskip("torchao.quantization.pt2e")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def litert_int8_trained(trained_dir, tmp_path_factory):
    """The documented command with the held-out folder as --eval; (process, sidecar)."""
    out = tmp_path_factory.mktemp("litert_int8_trained") / "lsnet_t_int8.tflite"
    return export_trained_int8(trained_dir, out, "--format", "litert")


def test_gate_passes_on_images_the_calibration_never_saw(litert_int8_trained) -> None:
    proc, sidecar = litert_int8_trained
    assert "INT8 vs FP32 on held-out folder images (40): top-1 agreement" in proc.stdout
    int8 = sidecar["int8"]
    assert int8["agreement_with_fp32"]["passed"] and int8["threshold"] == 0.95
    [case] = int8["agreement_with_fp32"]["cases"]
    assert case["top1_agreement"] >= 0.95
    assert int8["calibration"]["calibration_images"] == 160 and not int8["calibration"]["synthetic"]
    assert int8["ops_on_int8"]["CONV_2D"] >= 80 and "CONV_2D" not in int8["ops_on_float"]


def test_held_out_top1_within_one_point_of_fp32(litert_int8_trained) -> None:
    proc, sidecar = litert_int8_trained
    assert sidecar["format"] == "litert" and sidecar["precision"] == "int8" and sidecar["labels"][9] == "coins"
    accuracy = sidecar["accuracy"]
    assert accuracy["images"] == 300 and accuracy["classes_matched_by"] == "name" and accuracy["reference_top1"] > 0.7
    assert accuracy["top1"] >= accuracy["reference_top1"] - 0.01
    assert accuracy["top1_agreement"] >= 0.95 and accuracy["passed"]
