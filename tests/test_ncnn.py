"""ncnn export of lsnet_t (pnnx from TorchScript): parity at batch 1 and odd batches (the runner loops, one image
per extractor), FP32 only, only the .param + .bin pair and the sidecar published, the parity
gate refusing a corrupted weight, and the refusals that come before any work."""
import numpy as np
import pytest

pytest.importorskip("pnnx")
pytest.importorskip("ncnn")

from edge_support import assert_matches_fixture, assert_refused_with_nothing_written, corrupt_head_before  # noqa: E402
from lsnet.errors import ArtifactError, MissingDependencyError, OutputPathError, UnknownOptionError  # noqa: E402
from lsnet.export import export, ncnn_exporter  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """The default ncnn export (FP32 weights, unfold SKA) of the conformance checkpoint into a folder, made once."""
    return export("lsnet_t", "ncnn", weights=lsnet_t_checkpoint, output=tmp_path_factory.mktemp("ncnn"))


def test_fp32_matches_fixture_at_batch_1_and_odd_batch(exported, fixture_npz):
    assert exported.parity.passed and [c.batch for c in exported.parity.cases] == [1, 1, 2, 2, 3, 3]
    assert max(c.max_abs_err for c in exported.parity.cases) < TOL
    with open_runner(exported.path, threads=1) as runner:
        assert runner.info.runtime == "ncnn" and runner.input_spec.shape == (None, 3, 224, 224)
        assert_matches_fixture(runner, fixture_npz("lsnet_t"), TOL)


def test_only_the_param_bin_pair_and_sidecar_are_published(exported):
    folder = exported.path.parent
    assert sorted(p.name for p in folder.iterdir()) == ["lsnet_t.ncnn.bin", "lsnet_t.ncnn.param", "lsnet_t.ncnn.param.json"]
    meta = read_sidecar(exported.path)
    assert meta["format"] == "ncnn" and meta["ska"] == "unfold" and meta["parity"]["passed"]
    assert meta["ncnn"]["weights_storage"] == "fp32" and meta["versions"]["pnnx"] and meta["versions"]["ncnn"]
    assert "0=224 1=224 2=3" in exported.path.read_text()  # the input size travels in the graph itself


def test_half_is_not_an_option_for_ncnn(tmp_path):
    with pytest.raises(UnknownOptionError, match="--half does not apply to format 'ncnn'"):
        export("lsnet_t", "ncnn", half=True, output=tmp_path / "m.param")
    assert list(tmp_path.iterdir()) == []


def test_parity_gate_refuses_a_corrupted_weight_and_leaves_nothing(monkeypatch, tmp_path):
    corrupt_head_before(monkeypatch, ncnn_exporter, "export_ncnn")
    assert_refused_with_nothing_written(tmp_path, "ncnn", "bad.param")


def test_weights_of_an_openvino_model_are_never_overwritten(tmp_path):
    (tmp_path / "m.xml").write_text("<net/>")
    (tmp_path / "m.bin").write_bytes(b"openvino weights")
    with pytest.raises(OutputPathError, match="m.bin is the weights file of the openvino model m.xml"):
        export("lsnet_t", "ncnn", output=tmp_path / "m.param")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin", "m.xml"]
    assert (tmp_path / "m.bin").read_bytes() == b"openvino weights"


def test_shift_ska_is_refused_before_any_work(tmp_path):
    with pytest.raises(UnknownOptionError, match="--ska shift does not convert to ncnn"):
        export("lsnet_t", "ncnn", ska="shift", output=tmp_path / "m.param")
    assert list(tmp_path.iterdir()) == []


def test_missing_pnnx_is_one_line_with_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "pnnx", None)  # import pnnx -> ImportError
    with pytest.raises(MissingDependencyError, match=r'lsnet\[ncnn\]'):
        export("lsnet_t", "ncnn", output=tmp_path / "m.param")
    assert list(tmp_path.iterdir()) == []


def test_a_broken_pair_is_one_line(exported, tmp_path):
    lonely = tmp_path / "lonely.param"
    lonely.write_bytes(exported.path.read_bytes())
    with pytest.raises(ArtifactError, match="no weights file lonely.bin beside it"):
        open_runner(lonely)
    (tmp_path / "broken.param").write_text("7767517\n2 2\nInput in0 0 1 in0 0=224 1=224 2=3\nNoSuchLayer x 1 1 in0 out0\n")
    (tmp_path / "broken.bin").write_bytes(b"\0" * 16)
    with pytest.raises(ArtifactError, match="ncnn cannot load .*broken.param"):
        open_runner(tmp_path / "broken.param")


def test_non_square_input_size_travels_in_the_graph(tmp_path):
    result = export("lsnet_t", "ncnn", img_size=(192, 256), output=tmp_path / "wide.param")
    assert result.parity.passed and "0=256 1=192 2=3" in result.path.read_text()
    result.sidecar.unlink()  # the graph alone says what it takes
    with open_runner(result.path) as runner:
        assert runner.input_spec.shape == (None, 3, 192, 256)
        assert runner.infer(np.zeros((2, 3, 192, 256), np.float32)).shape == (2, 1000)
