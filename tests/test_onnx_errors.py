"""Bad input around ONNX export and validation: one typed error, one CLI line, nothing half-written."""
import sys

import pytest
import torch

pytest.importorskip("onnxruntime")

from cli_helpers import assert_one_line_error, run_cli  # noqa: E402

from lsnet.errors import LsnetError, MissingDependencyError, ParityError, UnknownOptionError  # noqa: E402
from lsnet.export import export, resolve_format  # noqa: E402


def test_unknown_format_suggests_the_close_name():
    with pytest.raises(UnknownOptionError, match="Did you mean 'onnx'"):
        resolve_format("onxx")


def test_unwritable_output_folder_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LsnetError, match="cannot write"):
        export("lsnet_t", "onnx", output=blocker / "sub" / "m.onnx", validate=False)


def test_missing_onnx_extra_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "lsnet\[onnx\]"'):
        export("lsnet_t", "onnx", output=tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_old_opset_is_rejected(tmp_path):
    with pytest.raises(UnknownOptionError, match="--opset 13 is too old"):
        export("lsnet_t", "onnx", opset=13, output=tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_int8_without_its_module_says_it_is_not_in_this_build(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "lsnet.export.onnx_int8", None)
    with pytest.raises(MissingDependencyError, match="INT8 ONNX export is not available"):
        export("lsnet_t", "onnx", int8=True, output=tmp_path / "m.onnx", validate=False)
    assert list(tmp_path.iterdir()) == []


def test_parity_failure_raises_and_leaves_nothing(monkeypatch, tmp_path):
    import lsnet.export.onnx_exporter as exporter

    real_trace = exporter.trace_onnx

    def corrupted_trace(model, options, path):
        with torch.no_grad():  # a broken exporter: one weight perturbed on the way out
            model.patch_embed[0].weight.add_(0.5)
        real_trace(model, options, path)

    monkeypatch.setattr(exporter, "trace_onnx", corrupted_trace)
    with pytest.raises(ParityError, match="failed parity"):
        export("lsnet_t", "onnx", output=tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_format_and_foreign_option_are_one_line():
    assert_one_line_error(run_cli("export", "lsnet_t", "-f", "onxx"), "unknown export format 'onxx'", "onnx")
    proc = run_cli("export", "lsnet_t", "--deployment-target", "iOS17")
    assert_one_line_error(proc, "--deployment-target does not apply to format 'onnx'")
    assert_one_line_error(run_cli("export", "lsnet_t", "-f", "trt", "--batch-range", "8,1,4"), "MIN <= OPT <= MAX")
    assert_one_line_error(run_cli("export", "lsnet_t", "--rewrites", "ls_bn"), "unknown rewrite 'ls_bn'", "ls-bn")
    assert_one_line_error(run_cli("export", "lsnet_t", "--baseline", "--rewrites", "se"), "unknown rewrite 'se'")


def test_cli_validate_missing_artifact(tmp_path):
    proc = run_cli("validate", str(tmp_path / "none.onnx"))
    assert_one_line_error(proc, "artifact not found")
    assert proc.returncode == 2


def test_cli_export_validate_and_parity_failure_with_other_weights(make_official_checkpoint, tmp_path):
    """Export with one checkpoint; validate passes against it and fails (exit 3) against another."""
    weights, other = make_official_checkpoint("lsnet_t", 0), make_official_checkpoint("lsnet_t", 1)
    target = tmp_path / "out" / "t.onnx"
    proc = run_cli("export", "lsnet_t", "--weights", str(weights), "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    assert "parity: passed on 6 cases" in proc.stdout and f"sidecar: {target}.json" in proc.stdout
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.onnx", "t.onnx.json"]

    ok = run_cli("validate", str(target))
    assert ok.returncode == 0, ok.stderr
    assert "parity: PASSED" in ok.stdout and "image-like, batch 3" in ok.stdout

    bad = run_cli("validate", str(target), "--weights", str(other))
    assert bad.returncode == 3
    assert "parity: FAILED" in bad.stdout and "sha256" in bad.stdout
    assert_one_line_error(bad, "does not match PyTorch")


@pytest.mark.parametrize("fmt", ["onnx", "trt"])
def test_half_and_int8_together_are_rejected_before_any_work(tmp_path, fmt):
    from lsnet.errors import ConflictingOptionsError
    from lsnet.export.options import ExportOptions

    with pytest.raises(ConflictingOptionsError, match="cannot be combined"):
        export("lsnet_t", fmt, half=True, int8=True, output=tmp_path / "m.onnx", validate=False)
    with pytest.raises(ConflictingOptionsError, match="cannot be combined"):
        ExportOptions(half=True, int8=True)
    assert list(tmp_path.iterdir()) == []
