"""ExecuTorch (.pte, XNNPACK) export of lsnet_t: parity at a fixed odd batch, the delegated fraction in the sidecar,
and the parity gate refusing a corrupted program with nothing left behind."""
import numpy as np
import pytest
import torch

pytest.importorskip("executorch.exir")
pytest.importorskip("executorch.runtime")

from lsnet.errors import BatchSizeError, ParityError  # noqa: E402
from lsnet.export import export  # noqa: E402
from lsnet.runtimes.artifact_metadata import read_sidecar  # noqa: E402
from lsnet.runtimes.registry import open_runner  # noqa: E402

TOL = 1e-4  # float32 tolerance of the conformance README


@pytest.fixture(scope="module")
def exported(lsnet_t_checkpoint, tmp_path_factory):
    """An ExecuTorch export at the fixed odd batch 3 of the conformance checkpoint, made once."""
    return export("lsnet_t", "pte", weights=lsnet_t_checkpoint, batch=3, output=tmp_path_factory.mktemp("et") / "lsnet_t.pte")


def test_fixed_odd_batch_matches_fixture(exported, fixture_npz):
    assert exported.parity.passed and [c.batch for c in exported.parity.cases] == [3, 3]
    fixture = fixture_npz("lsnet_t")
    x, logits = np.concatenate([fixture["input"], fixture["input"][:1]]), np.concatenate([fixture["logits"], fixture["logits"][:1]])
    with open_runner(exported.path) as runner:
        assert runner.info.runtime == "executorch" and runner.input_spec.shape == (3, 3, 224, 224)
        np.testing.assert_allclose(runner.infer(x), logits, rtol=TOL, atol=TOL)
        with pytest.raises(BatchSizeError, match="batch 3 only"):
            runner.infer(x[:1])


def test_sidecar_reports_the_delegated_fraction(exported):
    delegation = read_sidecar(exported.path)["delegation"]
    total = delegation["delegated_nodes"] + delegation["portable_nodes"]
    assert delegation["delegated_fraction"] == round(delegation["delegated_nodes"] / total, 3)
    assert 0.5 < delegation["delegated_fraction"] < 1 and delegation["partitions"] >= 1
    assert "aten_native_group_norm_default" in delegation["portable_ops"]  # GroupNorm runs on portable kernels


def test_parity_gate_refuses_a_corrupted_weight_and_leaves_nothing(monkeypatch, tmp_path):
    real = torch.export.export

    def corrupting(model, args, *rest, **kwargs):
        with torch.no_grad():
            head = [p for n, p in model.named_parameters() if n.startswith("head") and p.ndim == 2][0]
            head[0].mul_(-3.0)  # one class's weights: wrong logits in a valid program
        return real(model, args, *rest, **kwargs)

    monkeypatch.setattr(torch.export, "export", corrupting)
    (tmp_path / "keep.txt").write_text("user file")
    with pytest.raises(ParityError, match="nothing was written"):
        export("lsnet_t", "executorch", output=tmp_path / "bad.pte")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
