"""LiteRT (.tflite) export of lsnet_t: parity at batch 1 and a fixed odd batch with FP16 weights, the one-delegate
SKA default, and the parity gate refusing a corrupted conversion with nothing left behind."""
import numpy as np
import pytest

litert_torch = pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert.interpreter")

from edge_support import assert_refused_with_nothing_written, corrupt_head_before  # noqa: E402
from lsnet.errors import BatchSizeError  # noqa: E402
from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """The default LiteRT export (batch 1, FP32, conv_im2col SKA) of the conformance checkpoint, made once."""
    return export("lsnet_t", "tflite", weights=lsnet_t_checkpoint, output=tmp_path_factory.mktemp("litert") / "lsnet_t.tflite")


def test_fp32_batch_1_matches_fixture(exported, fixture_npz):
    assert exported.parity.passed and [c.batch for c in exported.parity.cases] == [1, 1]
    meta = read_sidecar(exported.path)
    assert meta["format"] == "litert" and meta["ska"] == "conv_im2col" and meta["batch"] == 1
    assert meta["input"]["shape"][0] == 1 and meta["versions"]["litert-torch"]
    fixture = fixture_npz("lsnet_t")
    with open_runner(exported.path, threads=1) as runner:
        assert runner.info.runtime == "litert" and runner.input_spec.shape == (1, 3, 224, 224)
        for i in range(len(fixture["input"])):
            np.testing.assert_allclose(runner.infer(fixture["input"][i : i + 1]), fixture["logits"][i : i + 1], rtol=TOL, atol=TOL)
        with pytest.raises(BatchSizeError, match="batch 1 only"):
            runner.infer(fixture["input"])


def test_fp16_weights_at_fixed_odd_batch(lsnet_t_checkpoint, exported, tmp_path):
    result = export("lsnet_t", "litert", weights=lsnet_t_checkpoint, half=True, batch=3, output=tmp_path / "half.tflite")
    assert result.parity.passed and result.metadata["precision"] == "fp16" and result.metadata["fp16"]["weights"] == "fp16"
    assert result.path.stat().st_size < 0.6 * exported.path.stat().st_size
    x = np.random.default_rng(0).standard_normal((3, 3, 224, 224)).astype(np.float32)
    with open_runner(result.path) as half, open_runner(exported.path) as full:
        a = half.infer(x)
        b = np.concatenate([full.infer(x[i : i + 1]) for i in range(3)])
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.9995 and (a.argmax(1) == b.argmax(1)).all()


def test_parity_gate_refuses_a_corrupted_weight_and_leaves_nothing(monkeypatch, tmp_path):
    corrupt_head_before(monkeypatch, litert_torch, "convert")
    assert_refused_with_nothing_written(tmp_path, "litert", "bad.tflite")


def test_dynamic_batch_is_not_an_option_for_litert(tmp_path):
    from lsnet.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="does not apply to format 'litert'"):
        export("lsnet_t", "litert", dynamic_batch=False, output=tmp_path / "m.tflite")
    assert list(tmp_path.iterdir()) == []
