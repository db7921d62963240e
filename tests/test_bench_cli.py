"""``lsnet bench`` end to end at tiny settings, and bad input giving one line and a non-zero exit."""
import json
import sys
from pathlib import Path

import jsonschema
import pytest
import torch

from lsnet.bench import results
from lsnet.bench.targets import parse_target
from lsnet.errors import UnknownOptionError

TINY = ["--warmup", "0", "--warmup-iters", "1", "--min-time", "0.02", "--rounds", "2", "--quiet"]


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run ``lsnet`` in-process; return (exit code, stdout, stderr)."""
    from lsnet.cli import main

    monkeypatch.setattr(sys, "argv", ["lsnet", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


def test_bench_writes_valid_results_table_and_csv(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "r.json"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "bench", "lsnet_t", "lsnet_t@ska=unfold", "--img-size", "64", "--batch", "1,2",
        *TINY, "--out", str(out), "--csv", str(tmp_path / "r.csv"),
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, json.loads(results.SCHEMA_PATH.read_text()))
    assert [(r["target"], r["batch"], r["ska"]) for r in doc["rows"]] == [
        ("lsnet_t", 1, "reference"), ("lsnet_t@ska=unfold", 1, "unfold"), ("lsnet_t", 2, "reference"), ("lsnet_t@ska=unfold", 2, "unfold"),
    ]
    assert doc["rows"][0]["img_size"] == [64, 64] and doc["rows"][0]["ratio_to_first"] == 1.0
    assert doc["environment"]["machine"] and doc["settings"]["rounds"] == 2
    assert "| lsnet_t@ska=unfold | pytorch | cpu | fp32 | unfold | 2 |" in stdout
    assert out.with_suffix(".md").read_text().count("| lsnet_t") == 4
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 5


def test_paper_protocol_tiny(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "p.json"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "bench", "--protocol", "paper", "lsnet_t", "--batch", "2", "--warmup", "0", "--min-time", "0.05",
        "--quiet", "--out", str(out),
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    (row,) = doc["rows"]
    assert doc["settings"]["protocol"] == "paper" and row["batch"] == 2 and row["precision"] == "fp32"
    assert row["throughput_ips"] == pytest.approx(2 / (row["latency_ms"]["mean"] / 1e3))
    assert any("changed from the paper" in n for n in doc["settings"]["notes"])


def test_claims_tiny(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "c.json"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "bench", "claims", "--models", "lsnet_t", "--batch", "2", "--warmup", "0", "--min-time", "0.05",
        "--latency-min-time", "0.03", "--quiet", "--out", str(out),
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, json.loads(results.SCHEMA_PATH.read_text()))
    claims = {c["claim"]: c for c in doc["claims"]}
    assert claims["params (M)"]["paper"] == 11.4 and claims["params (M)"]["measured"] == pytest.approx(11.41, abs=0.01)
    assert claims["throughput"]["paper"] == 14708 and claims["throughput"]["measured"] > 0
    assert any(c.startswith("CPU batch-1 p50 latency, pytorch") for c in claims)
    assert "Paper claims vs measured" in stdout and "| throughput | lsnet_t | 14,708 |" in stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["lsnet_x"], "unknown target 'lsnet_x'"),
        (["lsnet_t@fp17"], "unknown modifier 'fp17'"),
        (["lsnet_t@ska=nope"], "unknown SKA formulation 'nope'"),
        (["lsnet_t", "--batch", "0"], "must be >= 1"),
        (["lsnet_t", "--batch", "-4"], "must be >= 1"),
        (["lsnet_t", "--batch", "two"], "comma-separated integers"),
        (["lsnet_t", "--min-time", "0"], "--min-time must be > 0"),
        (["lsnet_t", "--device", "tpu"], "unknown device 'tpu'"),
        (["lsnet_t@cudagraph"], "CUDA graphs need --device cuda"),
        (["missing.onnx"], "does not exist"),
        (["lsnet_t", "lsnet_t"], "listed twice"),
        (["--protocol", "fast", "lsnet_t"], "unknown protocol 'fast'"),
        (["claims", "--models", "lsnet_q"], "unknown model 'lsnet_q'"),
        (["report", "/nonexistent/r.json"], "does not exist"),
        (["import", "/nonexistent/r.json"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(monkeypatch, capsys, args: list[str], fragment: str) -> None:
    code, _, err = run_cli(monkeypatch, capsys, "bench", *args)
    assert_one_line_error(code, err, fragment)


def test_artifact_for_another_device_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    engine = tmp_path / "m.engine"
    engine.write_bytes(b"\0")
    package = tmp_path / "m.mlpackage"
    package.mkdir()
    code, _, err = run_cli(monkeypatch, capsys, "bench", str(engine), "--device", "cpu")
    assert_one_line_error(code, err, "NVIDIA GPUs only: use --device cuda")
    code, _, err = run_cli(monkeypatch, capsys, "bench", str(package), "--device", "cuda")
    assert_one_line_error(code, err, "runs on Apple hardware, not CUDA")


def test_onnx_artifacts_take_no_modifiers(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\0")
    with pytest.raises(UnknownOptionError, match="modifiers apply to PyTorch targets only"):
        parse_target(f"{model}@fp16")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_one_line(monkeypatch, capsys) -> None:
    for args in (["lsnet_t", "--device", "cuda"], ["--protocol", "paper", "lsnet_t", "--device", "cuda"], ["claims", "--device", "cuda"]):
        code, _, err = run_cli(monkeypatch, capsys, "bench", *args)
        assert_one_line_error(code, err, "needs an NVIDIA GPU")


def test_modifiers_combine() -> None:
    spec = parse_target("lsnet_s@amp-bf16+channels_last@ska=unfold")
    assert (spec.name, spec.autocast, spec.channels_last, spec.ska, spec.precision) == ("lsnet_s", "bf16", True, "unfold", None)
