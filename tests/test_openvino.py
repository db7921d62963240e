"""OpenVINO IR export of lsnet_t: parity (batch 1, 2, 3 and FP16 weights), the .xml + .bin pair published
together, the parity gate refusing a corrupted artifact, and the missing-extra message."""
import numpy as np
import pytest

pytest.importorskip("onnx")
ov = pytest.importorskip("openvino")

from edge_support import assert_matches_fixture, assert_refused_with_nothing_written, corrupt_head_before  # noqa: E402
from lsnet.errors import BatchSizeError, UnknownOptionError  # noqa: E402
from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """The default OpenVINO export (dynamic batch, FP32) of the conformance checkpoint, made once."""
    return export("lsnet_t", "ov", weights=lsnet_t_checkpoint, output=tmp_path_factory.mktemp("ov") / "lsnet_t.xml")


def test_fp32_export_matches_fixture_at_batch_1_and_odd_3(exported, fixture_npz):
    assert exported.parity.passed and [c.batch for c in exported.parity.cases] == [1, 1, 2, 2, 3, 3]
    with open_runner(exported.path) as runner:
        assert runner.info.runtime == "openvino" and runner.input_spec.dynamic_batch
        assert_matches_fixture(runner, fixture_npz("lsnet_t"), TOL)


def test_xml_bin_and_sidecar_published_together_with_no_temporary_files(exported):
    folder = exported.path.parent
    assert sorted(p.name for p in folder.iterdir()) == ["lsnet_t.bin", "lsnet_t.xml", "lsnet_t.xml.json"]
    meta = read_sidecar(exported.path)
    assert meta["format"] == "openvino" and meta["ska"] == "conv_im2col" and meta["parity"]["passed"]
    assert meta["openvino"]["weights_storage"] == "fp32" and meta["versions"]["openvino"]


def test_fp16_weights_within_fp16_limits(lsnet_t_checkpoint, exported, tmp_path):
    result = export("lsnet_t", "openvino", weights=lsnet_t_checkpoint, half=True, batch=2, output=tmp_path / "half.xml")
    assert result.metadata["precision"] == "fp16" and result.parity.passed
    assert (tmp_path / "half.bin").stat().st_size < 0.6 * exported.path.with_suffix(".bin").stat().st_size
    x = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    with open_runner(result.path) as half, open_runner(exported.path) as full:
        a, b = half.infer(x), full.infer(x)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.9995 and (a.argmax(1) == b.argmax(1)).all()
    with pytest.raises(BatchSizeError, match="batch 2 only"):
        open_runner(result.path).infer(x[:1])


def test_parity_gate_refuses_a_corrupted_weight_and_leaves_nothing(monkeypatch, tmp_path):
    from lsnet.export import onnx_exporter

    corrupt_head_before(monkeypatch, onnx_exporter, "export_onnx")
    assert_refused_with_nothing_written(tmp_path, "openvino", "bad.xml", batch=1)


def test_output_must_end_in_xml_before_any_work(tmp_path):
    with pytest.raises(UnknownOptionError, match="ending in .xml"):
        export("lsnet_t", "openvino", output=tmp_path / "model.bin")
    assert list(tmp_path.iterdir()) == []


def test_missing_openvino_is_one_line_with_the_extra(monkeypatch, tmp_path):
    from lsnet.errors import MissingDependencyError

    monkeypatch.setitem(__import__("sys").modules, "openvino", None)  # import openvino -> ImportError
    with pytest.raises(MissingDependencyError, match=r'lsnet\[openvino\]'):
        export("lsnet_t", "intel", output=tmp_path / "m.xml")
    assert list(tmp_path.iterdir()) == []
