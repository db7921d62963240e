"""MNN export of lsnet_t (our ONNX converted in-process by MNN's compiled converter): parity at batch 1 and the odd
batch 3, FP16 weights within their limits, the parity gate refusing a corrupted weight, MNN's native chatter kept
off stdout, and MNN.tools (which installs packages and sends telemetry at import) never imported."""
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("MNN")

from edge_support import assert_matches_fixture, assert_refused_with_nothing_written, corrupt_head_before  # noqa: E402
from lsnet.errors import ArtifactError, MissingDependencyError  # noqa: E402
from lsnet.export import export, onnx_exporter  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """The default MNN export (dynamic batch, FP32, shift SKA) of the conformance checkpoint, made once."""
    return export("lsnet_t", "mnn", weights=lsnet_t_checkpoint, output=tmp_path_factory.mktemp("mnn") / "lsnet_t.mnn")


def test_fp32_matches_fixture_at_batch_1_and_odd_3(exported, fixture_npz):
    assert exported.parity.passed and [c.batch for c in exported.parity.cases] == [1, 1, 2, 2, 3, 3]
    assert max(c.max_abs_err for c in exported.parity.cases) < TOL
    with open_runner(exported.path, threads=1) as runner:
        assert runner.info.runtime == "mnn" and runner.input_spec.dynamic_batch
        assert_matches_fixture(runner, fixture_npz("lsnet_t"), TOL)


def test_artifact_and_sidecar_only_and_no_mnn_tools(exported):
    assert sorted(p.name for p in exported.path.parent.iterdir()) == ["lsnet_t.mnn", "lsnet_t.mnn.json"]
    meta = read_sidecar(exported.path)
    assert meta["format"] == "mnn" and meta["ska"] == "shift" and meta["parity"]["passed"]
    assert meta["mnn"]["weights_storage"] == "fp32" and meta["versions"]["mnn"]
    assert "MNN.tools" not in sys.modules and "aliyun" not in sys.modules


def test_mnn_prints_nothing_on_stdout(exported, capfd):
    capfd.readouterr()
    with open_runner(exported.path) as runner:
        runner.infer(np.zeros((1, 3, 224, 224), np.float32))
    assert capfd.readouterr().out == ""


def test_fp16_weights_within_fp16_limits(lsnet_t_checkpoint, exported, tmp_path):
    result = export("lsnet_t", "mnn", weights=lsnet_t_checkpoint, half=True, output=tmp_path / "half.mnn")
    assert result.parity.passed and result.metadata["precision"] == "fp16" and result.metadata["mnn"]["weights_storage"] == "fp16"
    assert result.path.stat().st_size < 0.6 * exported.path.stat().st_size
    x = np.random.default_rng(0).standard_normal((3, 3, 224, 224)).astype(np.float32)
    with open_runner(result.path) as half, open_runner(exported.path) as full:
        a, b = half.infer(x), full.infer(x)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.9995 and (a.argmax(1) == b.argmax(1)).all()


def test_parity_gate_refuses_a_corrupted_weight_and_leaves_nothing(monkeypatch, tmp_path):
    corrupt_head_before(monkeypatch, onnx_exporter, "export_onnx")
    assert_refused_with_nothing_written(tmp_path, "mnn", "bad.mnn", batch=1)


def test_missing_mnn_is_one_line_with_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "MNN", None)  # import MNN -> ImportError
    with pytest.raises(MissingDependencyError, match=r'lsnet\[mnn\]'):
        export("lsnet_t", "mnn", output=tmp_path / "m.mnn")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_mnn_model_is_one_line(tmp_path):
    (tmp_path / "broken.mnn").write_bytes(b"not an MNN model")
    with pytest.raises(ArtifactError, match="MNN cannot load .*broken.mnn.*re-export it"):
        open_runner(tmp_path / "broken.mnn")
