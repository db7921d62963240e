"""The trained 10-class fixture through each installed edge format (OpenVINO, LiteRT, ExecuTorch, ncnn, MNN): held-out top-1
of the artifact, measured by ``lsnet eval``'s core function, within 1 point of FP32 PyTorch; FP16 variants too."""
import importlib.util

import pytest

EDGE_FORMATS = {  # format -> module that must be importable for its export and runtime
    "openvino": "openvino",
    "litert": "litert_torch",
    "executorch": "executorch",
    "ncnn": "pnnx",
    "mnn": "MNN",
}
CASES = [(fmt, precision) for fmt in EDGE_FORMATS for precision in ("fp32", "fp16")]
SUFFIX = {"openvino": ".xml", "litert": ".tflite", "executorch": ".pte", "ncnn": ".param", "mnn": ".mnn"}


@pytest.fixture(scope="module")
def trained(trained_dir):
    return trained_dir / "lsnet_t_photos10.pth", trained_dir / "labels.txt", trained_dir / "heldout"


@pytest.fixture(scope="module")
def pytorch_top1(trained) -> float:
    from lsnet.runtimes.evaluate import evaluate

    weights, labels, heldout = trained
    return evaluate("lsnet_t", heldout, weights=weights, labels=labels, batch=50).top1


@pytest.mark.parametrize(("fmt", "precision"), CASES, ids=[f"{f}-{p}" for f, p in CASES])
def test_heldout_top1_within_one_point_of_pytorch(fmt, precision, trained, pytorch_top1, tmp_path):
    if importlib.util.find_spec(EDGE_FORMATS[fmt]) is None:
        pytest.skip(f'{EDGE_FORMATS[fmt]} is not installed (pip install "lsnet[{fmt}]")')
    from lsnet.export import export, resolve_format
    from lsnet.runtimes.evaluate import evaluate

    weights, labels, heldout = trained
    if precision == "fp16" and "half" not in resolve_format(fmt).options:
        pytest.skip(f"{fmt} has no FP16 export")
    half = {"half": True} if precision == "fp16" else {}
    result = export("lsnet_t", fmt, weights=weights, labels=labels, output=tmp_path / f"trained{SUFFIX[fmt]}", **half)
    assert result.metadata["num_classes"] == 10
    measured = evaluate(result.path, heldout, batch=50)
    assert measured.images == 300 and measured.matched_by == "name"
    assert abs(measured.top1 - pytorch_top1) <= 0.01, (measured.top1, pytorch_top1)
