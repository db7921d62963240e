"""OpenVINO INT8 (NNCF) with random weights: the quantized IR runs and records how it was made; the FP32-agreement
gate refuses a miscalibrated model with nothing written. With the trained fixture (slow): held-out top-1 within
1 point of PyTorch FP32."""

import numpy as np
import pytest

from cli_helpers import export_trained_int8

pytest.importorskip("openvino")
nncf = pytest.importorskip("nncf")

from lsnet.errors import ParityError  # noqa: E402
from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

SIZE = 96


def test_quantized_ir_runs_at_any_batch_and_records_its_quantization(tmp_path) -> None:
    result = export("lsnet_t", "openvino", img_size=SIZE, int8=True, calib="8", int8_threshold=0.0, output=tmp_path / "m_int8.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m_int8.bin", "m_int8.xml", "m_int8.xml.json"]
    meta = read_sidecar(result.path)
    assert meta["precision"] == "int8" and meta["openvino"]["weights_storage"] == "int8"
    int8 = meta["int8"]
    assert int8["fake_quantize_ops"] > 50 and int8["method"].startswith("nncf.quantize") and int8["calibration"]["synthetic"]
    assert [c["case"] for c in int8["agreement_with_fp32"]["cases"]] == ["held-out image-like (32)"]
    assert "onnx" in meta and "int8" not in meta["onnx"]  # NNCF quantized the IR, not ONNX Runtime the ONNX
    with open_runner(result.path) as runner:
        logits = runner.infer(np.random.default_rng(0).standard_normal((3, 3, SIZE, SIZE)).astype(np.float32))
    assert logits.shape == (3, 1000) and np.isfinite(logits).all()


def test_gate_refuses_a_miscalibrated_model_and_writes_nothing(monkeypatch, tmp_path) -> None:
    real = nncf.quantize

    def miscalibrated(model, dataset, **kwargs):  # ranges 1000x too wide: every activation rounds to a few levels
        return real(model, nncf.Dataset([x * 1000 for x in dataset.get_inference_data()]), **kwargs)

    monkeypatch.setattr(nncf, "quantize", miscalibrated)
    (tmp_path / "keep.txt").write_text("user file")
    with pytest.raises(ParityError, match=r"INT8 model disagrees with FP32: .*Nothing was written"):
        export("lsnet_t", "openvino", img_size=SIZE, int8=True, calib="8", int8_threshold=0.5, output=tmp_path / "bad.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.slow
def test_trained_fixture_int8_ir_keeps_held_out_top1(trained_dir, tmp_path) -> None:
    proc, sidecar = export_trained_int8(trained_dir, tmp_path / "lsnet_t_int8.xml", "--format", "openvino")
    assert "INT8 vs FP32 on held-out folder images (40): top-1 agreement" in proc.stdout
    assert sidecar["int8"]["agreement_with_fp32"]["passed"]
    accuracy = sidecar["accuracy"]
    assert accuracy["images"] == 300 and accuracy["reference_top1"] > 0.7
    assert accuracy["top1"] >= accuracy["reference_top1"] - 0.01 and accuracy["top1_agreement"] >= 0.95
