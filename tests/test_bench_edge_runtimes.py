"""bench/edge_runtimes.py: which artifacts the CPU runtime shoot-out measures (the run itself is a benchmark)."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from lsnet.bench import edge_runtimes


@pytest.fixture
def fake_export(monkeypatch):
    """``lsnet.export.export`` replaced by one that records its call and writes an empty file."""
    calls = []

    def export(model, fmt, output, **options):
        calls.append((model, fmt, options))
        Path(output).write_bytes(b"")
        return SimpleNamespace(path=Path(output))

    monkeypatch.setattr("lsnet.export.export", export)
    monkeypatch.setattr(edge_runtimes, "installed_runtimes", lambda wanted: wanted)
    return calls


def test_fixed_batch_runtimes_get_one_export_per_batch_and_reuse_files(fake_export, tmp_path):
    args = SimpleNamespace(batches="1,8", runtimes="onnx,litert,executorch", models="lsnet_t", peers="")
    paths = edge_runtimes.export_targets(args, tmp_path, [])
    assert [Path(p).name for p in paths] == [
        "lsnet_t.onnx", "lsnet_t_generic.onnx",
        "lsnet_t_b1.tflite", "lsnet_t_b8.tflite", "lsnet_t_b1.pte", "lsnet_t_b8.pte",
    ]
    assert [c[2] for c in fake_export] == [
        {"rewrites": "all"}, {"rewrites": "none"}, {"batch": 1}, {"batch": 8}, {"batch": 1}, {"batch": 8},
    ]
    assert edge_runtimes.export_targets(args, tmp_path, []) == paths and len(fake_export) == 6  # reused, not re-exported


def test_peers_are_left_out_with_a_warning_without_timm(monkeypatch, caplog):
    monkeypatch.setattr("lsnet.deps.try_import", lambda name: (None, "not installed"))
    assert edge_runtimes.peers_available(["mobilenetv3_large_100"]) == []
    assert "lsnet[peers]" in caplog.text


def test_missing_runtime_is_left_out(monkeypatch):
    from lsnet.errors import MissingDependencyError

    def check(fmt):
        if fmt.name == "executorch":
            raise MissingDependencyError('executorch is not installed: pip install "lsnet[executorch]"')

    monkeypatch.setattr("lsnet.export.api.check_requirements", check)
    assert edge_runtimes.installed_runtimes(["onnx", "executorch"]) == ["onnx"]


def test_a_peer_a_runtime_cannot_take_is_left_out_with_a_note(fake_export, monkeypatch, tmp_path):
    from lsnet.errors import LsnetError

    def peer_exports(name, runtime, batches, folder):
        if runtime == "mnn":
            raise LsnetError("the exported graph has tensors of rank > 5")
        return [folder / f"{name}.{runtime}"]

    monkeypatch.setattr(edge_runtimes, "peer_exports", peer_exports)
    monkeypatch.setattr(edge_runtimes, "peers_available", lambda names: names)
    args = SimpleNamespace(batches="1", runtimes="onnx,mnn", models="lsnet_t", peers="efficientvit_m4")
    left_out: list[str] = []
    paths = [Path(p).name for p in edge_runtimes.export_targets(args, tmp_path, left_out)]
    assert paths == ["lsnet_t.onnx", "lsnet_t_generic.onnx", "efficientvit_m4.onnx", "lsnet_t.mnn"]
    assert left_out == ["efficientvit_m4 is not in mnn: the exported graph has tensors of rank > 5"]
