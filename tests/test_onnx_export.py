"""ONNX export of lsnet_t with the conformance checkpoint: fixture parity in ONNX Runtime, graph rules, metadata."""
import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README (rtol = atol = 1e-4)


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """The default ONNX export (dynamic batch, default SKA) of the conformance checkpoint, made once."""
    return export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, output=tmp_path_factory.mktemp("onnx") / "lsnet_t.onnx")


def batches_of(fixture: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """The fixture input/logits at batch 1, 2 and 3 (the third row repeats the first)."""
    x, logits = fixture["input"], fixture["logits"]
    return [(x[:1], logits[:1]), (x, logits), (np.concatenate([x, x[:1]]), np.concatenate([logits, logits[:1]]))]


def assert_fixture_logits(path, fixture) -> None:
    with OnnxRuntimeRunner(path) as runner:
        for x, expected in batches_of(fixture):
            np.testing.assert_allclose(runner.infer(x), expected, rtol=TOL, atol=TOL, err_msg=f"batch {len(x)}")


def test_default_export_matches_fixture_at_batch_1_2_3(exported, fixture_npz):
    assert exported.metadata["dynamic_batch"] is True
    assert exported.parity.passed and len(exported.parity.cases) == 6
    assert_fixture_logits(exported.path, fixture_npz("lsnet_t"))


def test_graph_has_default_domain_named_io_dynamic_batch_and_rank_at_most_5(exported):
    model = onnx.load(str(exported.path))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph
    assert {n.domain or "ai.onnx" for n in inferred.node} == {"ai.onnx"}
    ranks = [len(v.type.tensor_type.shape.dim) for v in (*inferred.value_info, *inferred.output)]
    assert ranks and max(ranks) <= 5
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ("input", "logits")
    batch_dim = graph_input.type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.HasField("dim_value")
    assert model.opset_import[0].version == 18


def test_metadata_in_metadata_props_and_sidecar(exported):
    props = {p.key: p.value for p in onnx.load(str(exported.path)).metadata_props}
    sidecar = read_sidecar(exported.path)
    for key in ("variant", "ska", "precision", "opset", "weights_sha256", "mean", "parity", "mobile_usability", "versions"):
        assert key in props and key in sidecar, key
    assert props["variant"] == sidecar["variant"] == "lsnet_t"
    assert json.loads(props["mean"]) == sidecar["mean"]
    assert json.loads(props["parity"])["passed"] is True
    usability = sidecar["mobile_usability"]
    assert set(usability["execution_providers"]) == {"nnapi", "coreml_neuralnetwork", "coreml_mlprogram"}
    assert all(ep["verdict"] in {"YES", "MAYBE", "NO"} for ep in usability["execution_providers"].values())
    assert isinstance(usability["verdict"], str) and usability["verdict"]
    assert set(sidecar["versions"]) >= {"onnx", "onnxruntime", "onnxslim", "torch"}


def test_runner_reads_sidecar_and_native_path_matches_infer(exported, fixture_npz):
    x = fixture_npz("lsnet_t")["input"]
    with OnnxRuntimeRunner(exported.path, threads=1) as runner:
        assert runner.input_spec.name == "input" and runner.input_spec.dynamic_batch
        assert runner.info.metadata["variant"] == "lsnet_t" and runner.info.runtime == "onnxruntime"
        (native,) = runner.infer_native(runner.prepare(x))
        np.testing.assert_array_equal(native.numpy(), runner.infer(x))


@pytest.mark.parametrize("ska", ["reference", "shift"])
def test_other_formulations_export_and_match_fixture(ska, lsnet_t_checkpoint, fixture_npz, tmp_path):
    result = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, ska=ska, output=tmp_path / f"{ska}.onnx")
    assert result.metadata["ska"] == ska and result.metadata["graph"]["max_rank"] <= 5
    assert_fixture_logits(result.path, fixture_npz("lsnet_t"))


def test_unfold_formulation_is_refused_for_its_rank_6_graph(lsnet_t_checkpoint, tmp_path):
    from lsnet.export.onnx_checks import GraphCheckError

    with pytest.raises(GraphCheckError, match="rank > 5"):
        export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, ska="unfold", output=tmp_path / "u.onnx")
    assert list(tmp_path.iterdir()) == []


def test_baseline_fixed_odd_batch(lsnet_t_checkpoint, fixture_npz, tmp_path):
    from lsnet.errors import BatchSizeError

    result = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, baseline=True, batch=3, output=tmp_path / "b.onnx")
    meta = result.metadata
    assert (meta["ska"], meta["baseline"], meta["simplified"], meta["batch"]) == ("unfold", True, False, 3)
    assert [c.batch for c in result.parity.cases] == [3, 3]
    fixture = fixture_npz("lsnet_t")
    x, expected = batches_of(fixture)[2]
    with OnnxRuntimeRunner(result.path) as runner:
        assert runner.input_spec.shape[0] == 3
        np.testing.assert_allclose(runner.infer(x), expected, rtol=TOL, atol=TOL)
        with pytest.raises(BatchSizeError, match="batch 3 only"):
            runner.infer(x[:2])


def test_half_agrees_with_float32(exported, lsnet_t_checkpoint, fixture_npz, tmp_path):
    result = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, half=True, output=tmp_path / "h.onnx")
    assert result.metadata["precision"] == "fp16" and result.metadata["fp16"]["io_dtype"] == "float32"
    assert {"GroupNorm", "Attention", "SqueezeExcite"} <= set(result.metadata["fp16"]["fp32_modules"])
    model = onnx.load(str(result.path))
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    x = fixture_npz("lsnet_t")["input"]
    with OnnxRuntimeRunner(result.path) as half, OnnxRuntimeRunner(exported.path) as full:
        a, b = half.infer(x), full.infer(x)
    assert np.array_equal(a.argmax(1), b.argmax(1))
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cosine.min() > 0.999
