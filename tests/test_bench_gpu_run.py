"""The GPU run (bench/gpu/run.sh + lsnet.bench.gpu.measure): its CPU dry run end to end, the child process
that time-boxes torch.compile, the time budget, and the report's paper-vs-GPU section."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from lsnet.bench import report, results
from lsnet.bench.gpu import measure
from lsnet.bench.gpu.modes import STACKED_MODES, Mode
from lsnet.bench.harness import Settings

REPO = Path(__file__).resolve().parents[1]


def tiny_plan(**changes) -> measure.Plan:
    plan = dict(device="cpu", models=("lsnet_t",), batch=2, img_size=64, settings=Settings(0.0, 1, 0.02, 1), budget_s=300.0,
                compile_timeout_s=120.0)
    return measure.Plan(**{**plan, **changes})


@pytest.mark.slow
def test_dry_run_of_the_device_command(tmp_path: Path) -> None:
    """The same command as on the GPU machine, on CPU at tiny sizes: install check, gpu tests (skipped here),
    every mode (the CUDA-only ones recorded as skipped), the compile child killed at its limit, the files."""
    env = {**os.environ, "PYTHON": sys.executable}
    proc = subprocess.run(["bash", "bench/gpu/run.sh", "--dry-run", str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = (tmp_path / "gpu_run.log").read_text()
    assert proc.returncode == 0, log[-4000:]
    assert "measurement exit status 0" in log and "(unchanged)" in log
    doc = json.loads((tmp_path / "gpu_results.json").read_text())
    jsonschema.validate(doc, json.loads(results.SCHEMA_PATH.read_text()))
    assert (tmp_path / "gpu_results.md").is_file() and sorted(p.name for p in tmp_path.iterdir()) == [
        "gpu_results.json", "gpu_results.md", "gpu_run.log", "gpu_tests.xml"]
    rows = {r["target"]: r for r in doc["rows"]}
    for ska in ("reference", "shift", "unfold", "conv_im2col"):
        row = rows[f"lsnet_t@ska={ska}"]
        assert row["metadata"]["mode"] == "eager" and row["metadata"]["parity"]["passed"], row
    assert rows["lsnet_t@ska=reference"]["ratio_to_first"] == 1.0
    fastest = max((r for r in doc["rows"] if r["metadata"]["mode"] == "eager"), key=lambda r: r["throughput_ips"])["ska"]
    for modifiers in ("amp-bf16", "channels_last"):
        assert rows[f"lsnet_t@ska={fastest}+{modifiers}"]["metadata"]["parity"]["passed"]
    skipped = {s["label"]: s["reason"] for s in doc["settings"]["skipped"]}
    assert "needs a CUDA GPU" in skipped["lsnet_t@ska=triton"]
    assert "CUDA graphs need --device cuda" in skipped[f"lsnet_t@ska={fastest}+cudagraph"]
    assert "time limit of 3 s" in skipped[f"lsnet_t@ska={fastest}+compile"]
    tests = doc["settings"]["gpu_tests"]
    assert tests["tests"] > 0 and tests["skipped"] == tests["tests"] and not tests["failed"]
    assert "GPU run (gpu_results.json)" in log and "Headline on" in log


def test_child_process_measures_one_mode(tmp_path: Path) -> None:
    """The child process (how torch.compile is time-boxed) hands its row back; parity uses the parent's reference."""
    out = tmp_path / "r.json"
    run = measure.GpuRun(tiny_plan(), out)
    run.measure("lsnet_t", Mode("eager", ska="reference"), "reference")
    channels_last = next(m for m in STACKED_MODES if m.name == "channels_last")
    run.measure_isolated("lsnet_t", channels_last, "shift")
    assert [r["target"] for r in run.rows] == ["lsnet_t@ska=reference", "lsnet_t@ska=shift+channels_last"], run.skipped
    assert run.rows[1]["metadata"]["parity"]["passed"] and run.rows[1]["ratio_to_first"] > 0
    assert [r["target"] for r in json.loads(out.read_text())["rows"]] == [r["target"] for r in run.rows]


def test_nothing_fits_the_budget_is_one_line(tmp_path: Path, capsys) -> None:
    from lsnet.bench.commands import run_script

    with pytest.raises(SystemExit) as exit_info:
        run_script(lambda: measure.main(["--dry-run", "--budget-s", "0", "--out", str(tmp_path / "r.json")]))
    assert str(exit_info.value).startswith("error: nothing was measured") and "--budget-s" in str(exit_info.value)
    assert "over the time budget" in capsys.readouterr().out and not (tmp_path / "r.json").exists()


def test_junit_summary(tmp_path: Path) -> None:
    xml = tmp_path / "t.xml"
    xml.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase classname="tests.test_a" name="test_ok"/><testcase classname="tests.test_a" name="test_bad"><failure/></testcase>'
        '<testcase classname="tests.test_a" name="test_gpu"><skipped/></testcase></testsuite></testsuites>'
    )
    assert measure.junit_summary(xml) == {"report": "t.xml", "tests": 3, "failures": 1, "errors": 0, "skipped": 1, "passed": 1,
                                          "failed": ["tests.test_a::test_bad"]}
    assert "timed out or crashed" in measure.junit_summary(tmp_path / "missing.xml")["note"]
    assert measure.junit_summary(None) is None


def synthetic_row(target: str, ska: str, mode: str, ips: float, passed: bool = True, precision: str = "fp32") -> dict:
    batch = 2048
    mean = batch * 1000.0 / ips
    return {
        "target": target, "model": target.split("@")[0], "runtime": "pytorch", "device": "cuda", "precision": precision, "ska": ska,
        "batch": batch, "latency_ms": {"p50": mean, "mean": mean, "min": mean}, "throughput_ips": ips,
        "metadata": {"mode": mode, "parity": {"passed": passed}},
    }


def test_report_puts_the_paper_3090_beside_the_gpu_run() -> None:
    """A synthetic GPU results file (not a measurement): the GPU is named, the paper's figure shown, ratios from the rows."""
    rows = [
        synthetic_row("lsnet_t@ska=reference", "reference", "eager", 10000.0),
        synthetic_row("lsnet_t@ska=triton", "triton", "eager", 30000.0),
        synthetic_row("lsnet_t@ska=unfold", "unfold", "eager", 20000.0),
        synthetic_row("lsnet_t@ska=triton+amp-fp16+cudagraph", "triton", "cudagraph+amp-fp16", 55000.0, precision="fp16-autocast"),
        synthetic_row("lsnet_t@ska=triton+amp-bf16", "triton", "amp-bf16", 90000.0, passed=False, precision="bf16-autocast"),
        synthetic_row("lsnet_s@ska=reference", "reference", "eager", 5000.0),
        synthetic_row("lsnet_s@ska=shift", "shift", "eager", 8000.0),
        synthetic_row("lsnet_s@ska=triton", "triton", "eager", 9000.0),
    ]
    env = {"machine": "NVIDIA H200", "os": "Linux 6.1 x86_64", "gpu": {"name": "NVIDIA H200"}}
    doc = results.validate(results.document(rows, env, {"protocol": "paper", "batch": 2048, "notes": ["windows scaled"]}))
    text = report.render([(Path("gpu.json"), doc)])
    assert "Paper (NVIDIA GeForce RTX 3090, batch 2048, fp32 eager) beside NVIDIA H200 (batch 2048" in text
    assert "| lsnet_t | 14,708 | 10,000 | 20,000 (unfold) | 30,000 | 55,000 (`lsnet_t@ska=triton+amp-fp16+cudagraph`) | 5.50 | 1.50 |" in text
    assert "| lsnet_s | 9,023 | 5,000 | 8,000 (shift) | 9,000 |" in text
    assert "- lsnet_t: best mode `lsnet_t@ska=triton+amp-fp16+cudagraph` = 5.50x reference eager; Triton eager / fastest" \
           " pure-PyTorch eager = 1.50 (target >= 1.3: met)" in text
    assert "lsnet_s: best mode `lsnet_s@ska=triton` = 1.80x reference eager; Triton eager / fastest pure-PyTorch eager = 1.12 (target >= 1.3: NOT met)" in text
    assert "Headline on NVIDIA H200 (same run)" in text and "windows scaled" in text


def test_report_without_a_gpu_run_has_no_gpu_section() -> None:
    row = synthetic_row("lsnet_t", "reference", "eager", 100.0)
    del row["metadata"]["mode"]
    doc = results.document([row], {"machine": "cpu", "os": "Linux"}, {"protocol": "lsnet"})
    assert "GPU run" not in report.render([(None, doc)])


def test_a_lost_cuda_context_skips_what_would_run_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def fault() -> None:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(torch.cuda, "synchronize", fault)
    reason = measure.context_lost("cuda", "lsnet_t@ska=triton")
    assert "lost when lsnet_t@ska=triton failed" in reason and "illegal memory access" in reason
    assert measure.context_lost("cpu", "lsnet_t@ska=triton") is None
    run = measure.GpuRun(tiny_plan(), None)
    run.broken = reason
    run.measure("lsnet_t", Mode("eager", ska="reference"), "reference")
    assert not run.rows and run.skipped[-1].reason == reason
