"""``lsnet models`` / ``lsnet info`` and the CLI's handling of bad input."""
import json

import pytest

from cli_helpers import assert_one_line_error, run_cli


def test_help_lists_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("models", "info"):
        assert command in proc.stdout


def test_models_lists_variants_and_formulations():
    proc = run_cli("models")
    assert proc.returncode == 0
    for name in ("lsnet_t", "lsnet_b_distill", "reference", "unfold", "shift"):
        assert name in proc.stdout


def test_info_json_matches_paper_scale():
    proc = run_cli("info", "lsnet_t", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert round(data["params"] / 1e6, 1) == 11.4
    assert round(data["macs"] / 1e9, 1) == 0.3
    assert data["stage_shapes"][-1] == [384, 4, 4]


def test_info_other_resolution():
    data = json.loads(run_cli("info", "lsnet_s", "--img-size", "256x320", "--json").stdout)
    assert data["stage_shapes"][0] == [96, 32, 40]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("info", "lsnet_tt"), ("unknown model", "Did you mean")),
        (("info", "lsnet_t", "--img-size", "100"), ("img_size 100", "multiple of 8")),
        (("info", "lsnet_t", "--img-size", "32"), ("at least 64",)),
        (("info", "lsnet_t", "--img-size", "big"), ("--img-size",)),
    ],
)
def test_bad_input_is_one_line(args, needles):
    assert_one_line_error(run_cli(*args), *needles)



@pytest.mark.parametrize("kind", ["missing", "garbage", "truncated", "other_variant"])
def test_bad_checkpoints_through_the_cli_are_one_line(kind, tmp_path, make_official_checkpoint):
    path = tmp_path / "w.pth"
    if kind == "garbage":
        path.write_bytes(b"not a checkpoint")
    elif kind == "truncated":
        data = make_official_checkpoint("lsnet_t").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "other_variant":
        path = make_official_checkpoint("lsnet_s")
    needle = {"missing": "not found", "garbage": "cannot read", "truncated": "cannot read", "other_variant": "fits lsnet_s"}[kind]
    out = tmp_path / "out"
    proc = run_cli("export", "lsnet_t", "--weights", str(path), "-o", str(out / "t.onnx"))
    assert_one_line_error(proc, needle)
    assert not out.exists() or not any(out.iterdir())
