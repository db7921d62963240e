"""Core ML export on any OS: structure of the .mlpackage, metadata, the ONNX proxy; predictions only on macOS."""
import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("coremltools", reason="coremltools not installed (pip install \"lsnet[coreml]\")")
pytest.importorskip("onnxruntime", reason="onnxruntime not installed (pip install \"lsnet[onnx]\")")

from lsnet.export.api import export  # noqa: E402
from lsnet.export.coreml_spec import load_spec, summarize  # noqa: E402
from lsnet.labels import labels_for  # noqa: E402

ON_MAC = platform.system() == "Darwin"


@pytest.fixture(scope="module")
def exports(tmp_path_factory, lsnet_t_checkpoint) -> dict:
    """lsnet_t exported once in FP16 (the format's default) and once in FP32, validated."""
    folder = tmp_path_factory.mktemp("coreml")
    return {
        "fp16": export("lsnet_t", "coreml", weights=lsnet_t_checkpoint, output=folder / "t_fp16.mlpackage"),
        "fp32": export("lsnet_t", "coreml", weights=lsnet_t_checkpoint, output=folder / "t.mlpackage", half=False),
    }


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_mlpackage_structure(exports, precision):
    result = exports[precision]
    assert result.path.is_dir() and result.path.suffix == ".mlpackage"
    summary = summarize(result.path)
    assert summary.model_type == "mlProgram"
    assert summary.inputs == {"image": "imageType"} and summary.color_space == "RGB"
    assert summary.image_size == (224, 224)
    assert summary.labels == labels_for(1000) and summary.labels[1] == "goldfish"
    assert summary.outputs == {"classLabel": "stringType", "classLabel_probs": "dictionaryType", "logits": "multiArrayType"}
    assert summary.max_rank <= 4, summary.ops_above_rank_4
    assert "gather" not in summary.op_histogram  # the attention-bias gather is folded to a constant
    meta = summary.metadata
    assert meta["precision"] == precision and meta["ska"] == "shift" and meta["deployment_target"] == "iOS16"
    assert meta["variant"] == "lsnet_t" and meta["weights_sha256"] == result.metadata["weights_sha256"]
    assert "mean=[0.485, 0.456, 0.406]" in meta["normalization"] and meta["input_kind"].startswith("image")
    assert summary.description["license"] == "MIT" and summary.description["version"]


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_compute_precision_and_baked_normalization(exports, precision):
    spec = load_spec(exports[precision].path)
    main = spec.mlProgram.functions["main"]
    ops = list(main.block_specializations[main.opset].operations)
    from coremltools.proto import MIL_pb2

    conv_types = {MIL_pb2.DataType.Name(o.type.tensorType.dataType) for op in ops if op.type == "conv" for o in op.outputs}
    assert conv_types == {"FLOAT16" if precision == "fp16" else "FLOAT32"}
    # the image is scaled by 1/255 (mul), then (x - mean) * (1/std) runs before the first conv
    first = [op.type for op in ops if op.type not in ("const", "cast")][:4]
    assert first == ["mul", "sub", "mul", "conv"]
    baked = summarize(exports[precision].path).preprocessing
    np.testing.assert_allclose(baked["scale"], [1 / 255], rtol=1e-6)
    np.testing.assert_allclose(baked["mean"], [0.485, 0.456, 0.406], rtol=1e-3)
    np.testing.assert_allclose(1 / np.asarray(baked["inv_std"]), [0.229, 0.224, 0.225], rtol=1e-3)


def test_structure_check_catches_wrong_preprocessing():
    from lsnet.export.coreml_validate import preprocessing_failures
    from lsnet.factory import create_model

    model = create_model("lsnet_t", img_size=64)
    good = {"scale": [1 / 255], "mean": list(model.pretrained_cfg.mean), "inv_std": [1 / s for s in model.pretrained_cfg.std]}
    assert preprocessing_failures(good, model) == []
    assert len(preprocessing_failures({**good, "mean": [0.5, 0.5, 0.5]}, model)) == 1
    assert len(preprocessing_failures({"scale": [1.0]}, model)) == 3


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_validation_report_and_sidecar(exports, precision):
    result = exports[precision]
    report = result.parity
    assert report.passed, report.failures
    assert {c.case.split(":")[0] for c in report.cases} == ({"cpu_only", "cpu_and_gpu", "cpu_and_ne", "all"} if ON_MAC else {"onnx proxy"})
    assert any("max tensor rank 4" in n for n in report.notes)
    if not ON_MAC:
        assert any("on-device parity needs macOS" in n for n in report.notes)
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["format"] == "coreml" and sidecar["precision"] == precision
    assert sidecar["input"]["kind"] == "image" and sidecar["input"]["shape"] == [1, 3, 224, 224]
    assert sidecar["parity"]["structure"]["num_labels"] == 1000
    assert sidecar["coreml"]["deployment_target"] == "iOS16" and sidecar["versions"]["coremltools"]


@pytest.mark.slow
def test_onnx_proxy_of_the_coreml_graph_matches_fixture(lsnet_t_checkpoint, fixture_npz, tmp_path):
    """The graph Core ML converts (0..1 image in, baked mean/std, rank-4 GroupNorm, shift SKA) reproduces the contract."""
    from lsnet.export.coreml_graph import ImageLogits, coreml_classifier
    from lsnet.export.formats import resolve_format
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.export.options import make_options
    from lsnet.factory import create_model, set_ska
    from lsnet.reparam import reparameterize
    from lsnet.runtimes.registry import open_runner

    data = fixture_npz("lsnet_t")
    model = create_model("lsnet_t", checkpoint_path=lsnet_t_checkpoint)
    graph = ImageLogits(coreml_classifier(set_ska(reparameterize(model), "shift")))
    path = tmp_path / "proxy.onnx"
    export_onnx(graph, make_options(resolve_format("onnx"), simplify=False), path)
    cfg = model.pretrained_cfg
    pixels = data["input"] * np.reshape(cfg.std, (1, 3, 1, 1)) + np.reshape(cfg.mean, (1, 3, 1, 1))
    with open_runner(path) as runner:
        logits = runner.infer(pixels.astype(np.float32))
    np.testing.assert_allclose(logits, data["logits"], rtol=1e-4, atol=1e-4)


def test_rank4_group_norm_equals_group_norm():
    from lsnet.export.coreml_graph import GroupNorm4D

    norm = torch.nn.GroupNorm(4, 36)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = torch.randn(2, 36, 7, 5)
    torch.testing.assert_close(GroupNorm4D(norm)(x), norm(x), rtol=1e-5, atol=1e-5)


@pytest.mark.coreml
@pytest.mark.skipif(not ON_MAC, reason="Core ML predictions need macOS")
@pytest.mark.parametrize("unit", ["cpu_only", "cpu_and_gpu", "cpu_and_ne", "all"])
def test_runner_matches_pytorch_on_every_compute_unit(exports, lsnet_t_checkpoint, unit):
    from lsnet.export.coreml_validate import normalized, pixel_cases
    from lsnet.factory import create_model
    from lsnet.runtimes.coreml_runner import CoreMLRunner

    model = create_model("lsnet_t", checkpoint_path=lsnet_t_checkpoint)
    with CoreMLRunner(exports["fp16"].path, device=unit) as runner:
        for _, pixels in pixel_cases((224, 224), [3]):
            batch = normalized(pixels, model)
            got = runner.infer(batch)
            want = model(torch.from_numpy(batch)).detach().numpy()
            assert got.shape == (3, 1000) and (got.argmax(1) == want.argmax(1)).mean() >= 0.9


def test_pyproject_pins_what_coremltools_needs():
    import tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "coremltools==9.0" in extras["coreml"] and "numpy<2.4" in extras["coreml"]
    major, minor = (int(p) for p in np.__version__.split(".")[:2])
    assert (major, minor) < (2, 4), "numpy 2.4 breaks coremltools 9.0's cast op; the coreml extra pins numpy<2.4"
