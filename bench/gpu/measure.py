"""The measurement of the GPU run: the paper's throughput protocol for each model in every mode, with parity.

    python -m lsnet.bench.gpu.measure --out gpu_results.json [--budget-s 200] [--tests-junit gpu_tests.xml]
    python -m lsnet.bench.gpu.measure --out dry.json --dry-run      # CPU, tiny sizes: everything but CUDA

Protocol (``lsnet.bench.paper``): reparameterized model, fp32 weights, TF32 off, random 224x224 batch
2048 (halved on out-of-memory), warm-up, then a timed window with a synchronize after every forward;
throughput = batch / mean iteration time. The windows default to 0.5 s / 1.5 s instead of the paper's
5 s / 10 s so that 3 models x 11 modes fit a device budget of a few minutes; the results file says so.

Every row's parity is measured on the protocol batch itself against FP32 eager with the reference SKA.
The run keeps to ``--budget-s``: a configuration that no longer fits is skipped and recorded, and
torch.compile runs in a child process killed at its time limit. The results file is rewritten after
every row, with a note naming the configuration under way, so a run stopped from outside keeps what
it measured and says where it stopped.
"""
import argparse
import copy
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsnet.bench.gpu.modes import COMPILE_MODE, REFERENCE_SKA, STACKED_MODES, Mode, eager_modes
from lsnet.bench.harness import Candidate, Harness, Measurement, Settings, Skipped, is_out_of_memory, random_batch
from lsnet.errors import LsnetError

OVERHEAD_S = 4.0  # opening a model, the parity forward and closing, on top of a configuration's windows
MIN_ISOLATED_S = 20.0  # a child process needs this much beyond its windows to be worth starting
PAPER_WINDOWS = "the paper's 5 s warm-up / 10 s timed"


@dataclass(frozen=True)
class Plan:
    """What to measure and within which limits."""

    device: str
    models: tuple[str, ...]
    batch: int
    img_size: int
    settings: Settings
    budget_s: float
    compile_timeout_s: float


def log(message: str) -> None:
    """One progress line on stdout (the run's log)."""
    print(message, flush=True)


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for skipped entries."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def release(device: str) -> None:
    """Free what the last configuration left (models, CUDA graph pools) before the next one."""
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def context_lost(device: str, label: str) -> str | None:
    """Why the CUDA context is unusable after ``label`` failed (a kernel fault is sticky), or None if it still works."""
    if not device.startswith("cuda"):
        return None
    try:
        torch.cuda.synchronize()
        return None
    except Exception as exc:  # noqa: BLE001 - any error here means the context is gone
        return f"the CUDA context of the measuring process was lost when {label} failed ({first_line(exc)})"


def logits_of(runner: Any, images: np.ndarray) -> np.ndarray | str:
    """The runner's logits of ``images``, or why there are none (out of memory at this batch)."""
    try:
        return runner.infer(images)
    except Exception as exc:  # the timing fitted; a parity forward that does not is recorded, not fatal
        if not is_out_of_memory(exc):
            raise
        return f"out of memory at the parity batch {len(images)}"


def parity(logits: np.ndarray | str, reference: np.ndarray | str | None, mode: Mode) -> dict[str, Any]:
    """Logits against the FP32 eager reference logits of the same images (the first images both runs have)."""
    from lsnet.export.parity import ParityReport, compare

    for missing, why in ((logits, "this mode"), (reference, "the FP32 eager reference")):
        if missing is None or isinstance(missing, str):
            return {"passed": False, "error": f"no logits of {why}: {missing or 'its row was not measured'}"}
    n = min(len(logits), len(reference))  # after an out-of-memory halving: the same first images
    precision = mode.options.get("autocast") or "fp32"
    report = ParityReport(precision, mode.limits, [compare("protocol batch", logits[:n], reference[:n], mode.limits)])
    case = report.cases[0]
    return {
        "precision": precision, "passed": report.passed, "images": case.batch, "max_abs_err": case.max_abs_err,
        "cosine": case.cosine, "top1_agreement": case.top1_agreement, "failures": report.failures,
    }


def junit_summary(path: Path | None) -> dict[str, Any] | None:
    """Counts and failed test ids from pytest's JUnit XML; None without a path, a note when it is missing."""
    if path is None:
        return None
    if not path.is_file():
        return {"report": None, "note": f"{path.name} is missing: the tests timed out or crashed (see the log)"}
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    failed = [
        f"{case.get('classname')}::{case.get('name')}"
        for s in suites for case in s.iter("testcase") if case.find("failure") is not None or case.find("error") is not None
    ]
    return {"report": path.name, **counts, "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"], "failed": failed}


class GpuRun:
    """Measures the plan's configurations in priority order within the time budget; collects rows and skips."""

    def __init__(self, plan: Plan, out: Path | None, tests: dict[str, Any] | None = None) -> None:
        from lsnet.bench import environment
        from lsnet.runtimes.torch_runner import resolve_device

        resolve_device(plan.device)
        self.plan = plan
        self.out = out
        self.tests = tests
        self.deadline = time.monotonic() + plan.budget_s
        self.environment = {**environment.describe(plan.device), "source": "bench/gpu/run.sh"}
        self.rows: list[dict[str, Any]] = []
        self.measurements: list[Measurement] = []
        self.skipped: list[Skipped] = []
        self.reference: dict[str, np.ndarray | str] = {}
        self.models: dict[str, nn.Module] = {}
        self.broken: str | None = None  # why this process can no longer use the GPU (then only child processes measure)

    def left(self) -> float:
        """Seconds of the budget left."""
        return self.deadline - time.monotonic()

    def skip(self, label: str, reason: str) -> None:
        self.skipped.append(Skipped(label, self.plan.batch, reason))
        log(f"[{self.plan.budget_s - self.left():6.1f} s] skipped {label}: {reason}")

    def model(self, name: str) -> nn.Module:
        """The model's seeded trained-scale weights, the same for every mode (each runner gets a copy)."""
        if name not in self.models:
            from lsnet import create_model
            from lsnet.init import realistic_init

            self.models[name] = realistic_init(create_model(name, img_size=self.plan.img_size), seed=0).eval()
        return self.models[name]

    def fastest_eager(self, name: str) -> str | None:
        """The SKA of the highest-throughput eager FP32 row of ``name`` whose parity passed."""
        eager = [r for r in self.rows if r["model"] == name and r["metadata"]["mode"] == "eager" and r["metadata"]["parity"]["passed"]]
        return max(eager, key=lambda r: r["throughput_ips"])["ska"] if eager else None

    def open(self, name: str, mode: Mode, ska: str) -> Candidate:
        """A runner of this mode on a copy of the model's weights."""
        from lsnet.bench.memory import memory_probe
        from lsnet.runtimes.torch_runner import TorchRunner

        runner = TorchRunner(copy.deepcopy(self.model(name)), self.plan.device, ska=ska, **mode.options)
        metadata = {"variant": name, "mode": mode.name, "channels_last": bool(mode.options.get("channels_last")), "protocol": "paper", "tf32": False}
        return Candidate(mode.label(name, ska), runner, memory_probe(runner.info.runtime, self.plan.device),
                         {"model": name, "ska": ska, "metadata": metadata})

    def measure(self, name: str, mode: Mode, ska: str) -> None:
        """Time one configuration with the protocol, then its parity on the same batch; failures are recorded."""
        from lsnet.bench import results
        from lsnet.bench.timing import timer_for

        label = mode.label(name, ska)
        needed = self.plan.settings.warmup_s + self.plan.settings.min_time_s + OVERHEAD_S
        if self.broken:
            self.skip(label, self.broken)
            return
        if self.left() < needed:
            self.skip(label, f"over the time budget: {self.left():.0f} s left of {self.plan.budget_s:.0f} s, about {needed:.0f} s needed")
            return
        self.write(running=label)
        candidate = None
        try:
            candidate = self.open(name, mode, ska)
            harness = Harness(self.plan.settings, timer_for(self.plan.device))
            measured = harness.run([candidate], [self.plan.batch])
            self.skipped += harness.skipped
            for m in measured:  # one candidate at one batch: at most one measurement
                logits = logits_of(candidate.runner, random_batch(candidate.runner, m.batch, self.plan.settings.seed))
                if mode.name == "eager" and ska == REFERENCE_SKA:
                    self.reference[name] = logits
                candidate.extra["metadata"]["parity"] = parity(logits, self.reference.get(name), mode)
                self.add(results.row(m), m)
        except Exception as exc:  # a mode this machine cannot run is recorded; the run goes on
            if not isinstance(exc, LsnetError):
                traceback.print_exc()
            self.skip(label, first_line(exc))
            self.broken = context_lost(self.plan.device, label)
        finally:
            if candidate is not None:
                candidate.runner.close()
            release(self.plan.device)

    def add(self, row: dict[str, Any], measurement: Measurement | None = None) -> None:
        """Keep a row (ratio to the model's reference eager row) and rewrite the results file."""
        self.rows.append(row)
        if measurement is not None:
            self.measurements.append(measurement)
        reference = {(r["model"], r["batch"]): r["latency_ms"]["p50"] for r in self.rows
                     if r["metadata"]["mode"] == "eager" and r["ska"] == REFERENCE_SKA}
        for r in self.rows:
            base = reference.get((r["model"], r["batch"]))
            r["ratio_to_first"] = r["latency_ms"]["p50"] / base if base else None
        p = row["metadata"]["parity"]
        verdict = "parity ok" if p.get("passed") else f"parity FAILED ({'; '.join(p.get('failures') or [p.get('error', '')])})"
        log(f"[{self.plan.budget_s - self.left():6.1f} s] {row['target']}: batch {row['batch']}, {row['throughput_ips']:,.0f} img/s,"
            f" max |d| {p.get('max_abs_err', float('nan')):.2e}, {verdict}")
        self.write()

    def measure_isolated(self, name: str, mode: Mode, ska: str) -> None:
        """Run one configuration in a child process, killed (with its compile workers) at its time limit."""
        label = mode.label(name, ska)
        windows = self.plan.settings.warmup_s + self.plan.settings.min_time_s
        limit = min(self.plan.compile_timeout_s, self.left() - 2.0)
        if limit < min(windows + MIN_ISOLATED_S, self.plan.compile_timeout_s):
            self.skip(label, f"over the time budget: {self.left():.0f} s left, the child process needs about {windows + MIN_ISOLATED_S:.0f} s")
            return
        self.write(running=label)
        release(self.plan.device)
        with tempfile.TemporaryDirectory(prefix="lsnet-gpu-child-") as folder:
            reference = Path(folder) / "reference.npy"
            if isinstance(self.reference.get(name), np.ndarray):
                np.save(reference, self.reference[name])
            exchange = Path(folder) / "child.json"
            command = [sys.executable, "-m", "lsnet.bench.gpu.measure", "--child", f"{name}:{mode.name}", "--ska", ska,
                       "--reference", str(reference), "--out", str(exchange), *plan_arguments(self.plan)]
            log(f"[{self.plan.budget_s - self.left():6.1f} s] {label}: in a child process, time limit {limit:.0f} s")
            process = subprocess.Popen(command, start_new_session=True)  # its own group: compile workers die with it
            try:
                code = process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                self.skip(label, f"did not finish within its time limit of {limit:.0f} s (compilation included)")
                return
            if code != 0 or not exchange.is_file():
                self.skip(label, f"the child process failed with exit status {code} (see the log)")
                return
            child = json.loads(exchange.read_text())
        self.skipped += [Skipped(**s) for s in child["skipped"]]
        for row in child["rows"]:
            self.add(row)

    def run(self) -> dict[str, Any]:
        """Eager formulations of every model first, then the stacked modes, then torch.compile, as the budget allows."""
        from lsnet import list_ska
        from lsnet.bench.paper import tf32

        with tf32(False):
            for name in self.plan.models:
                for mode in eager_modes(list(list_ska())):
                    self.measure(name, mode, mode.ska)
            for name in self.plan.models:
                fastest = self.fastest_eager(name)
                for mode in STACKED_MODES:
                    if fastest is None:
                        self.skip(mode.label(name, "?"), "no eager formulation of this model was measured with parity")
                    else:
                        self.measure(name, mode, fastest)
            for name in self.plan.models:
                fastest = self.fastest_eager(name)
                if fastest is not None:
                    self.measure_isolated(name, COMPILE_MODE, fastest)
        if not self.rows:
            raise LsnetError(f"nothing was measured ({len(self.skipped)} configurations skipped, see the log); raise --budget-s or check the GPU.")
        return self.document()

    def document(self, running: str | None = None) -> dict[str, Any]:
        """The results document of the rows so far."""
        from lsnet.bench import paper, results

        settings = self.plan.settings
        fastest = {name: self.fastest_eager(name) for name in self.plan.models}
        notes = paper.protocol_notes(self.plan.device, self.plan.batch, self.measurements, False, settings)
        if settings != paper.PAPER_SETTINGS:
            notes.append(f"Windows scaled to {settings.warmup_s:g} s / {settings.min_time_s:g} s (from {PAPER_WINDOWS}) so that every"
                         f" mode of {len(self.plan.models)} models fits a {self.plan.budget_s:.0f} s budget.")
        notes += [
            "Modes: FP32 eager with each SKA formulation (reference first, the baseline of x first); channels_last,"
            " FP16/BF16 autocast, CUDA graphs and torch.compile on each model's fastest eager formulation of this run ("
            + ", ".join(f"{k}: {v or 'none'}" for k, v in fastest.items()) + ").",
            "Parity of every row: logits of the protocol batch against FP32 eager with the reference SKA; limits fp32"
            " atol/rtol 1e-3, fp16 autocast 5e-2, bf16 autocast cosine >= 0.999 and top-1 agreement >= 0.9.",
        ]
        if running:
            notes.append(f"Incomplete: the run was stopped while measuring {running}.")
        doc = results.document(self.rows, self.environment, {
            "warmup_s": settings.warmup_s, "warmup_iters": settings.warmup_iters, "min_time_s": settings.min_time_s,
            "rounds": settings.rounds, "protocol": "paper", "batch": self.plan.batch, "paper_batch": paper.GPU_BATCH,
            "img_size": self.plan.img_size, "budget_s": self.plan.budget_s,
            "timer": "cuda-events" if self.plan.device.startswith("cuda") else "perf_counter_ns",
            "skipped": [s.__dict__ for s in self.skipped], "notes": notes,
        })
        if self.tests is not None:
            doc["settings"]["gpu_tests"] = self.tests
        return doc

    def write(self, running: str | None = None) -> None:
        """Rewrite the results file with the rows so far (none yet, or no file: nothing to write)."""
        from lsnet.bench import results

        if self.rows and self.out is not None:
            results.write(self.document(running), self.out)


def plan_arguments(plan: Plan) -> list[str]:
    """The command-line options that rebuild ``plan`` (for the child process)."""
    s = plan.settings
    return ["--device", plan.device, "--models", ",".join(plan.models), "--batch", str(plan.batch), "--img-size", str(plan.img_size),
            "--warmup", str(s.warmup_s), "--min-time", str(s.min_time_s), "--budget-s", str(plan.budget_s),
            "--compile-timeout", str(plan.compile_timeout_s)]


def child(plan: Plan, spec: str, ska: str, reference: Path, out: Path) -> None:
    """``--child MODEL:MODE``: measure one configuration and hand its rows and skips to the parent as JSON."""
    from lsnet.bench.gpu.modes import COMPILE_MODE, STACKED_MODES
    from lsnet.bench.paper import tf32
    from lsnet.export.artifact import write_json_atomic

    name, _, mode_name = spec.partition(":")
    mode = {m.name: m for m in (*STACKED_MODES, COMPILE_MODE)}[mode_name]
    run = GpuRun(plan, None)  # the parent writes the results file
    if reference.is_file():
        run.reference[name] = np.load(reference)
    with tf32(False):
        run.measure(name, mode, ska)
    write_json_atomic(out, {"rows": run.rows, "skipped": [s.__dict__ for s in run.skipped]})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="results JSON (the markdown table is written beside it)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", default="lsnet_t,lsnet_s,lsnet_b")
    parser.add_argument("--batch", type=int, default=None, help="protocol batch (default: the paper's 2048 on GPU, 16 on CPU)")
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per configuration (paper: 5)")
    parser.add_argument("--min-time", type=float, default=1.5, help="timed seconds per configuration (paper: 10)")
    parser.add_argument("--budget-s", type=float, default=200.0, help="seconds for the whole measurement")
    parser.add_argument("--compile-timeout", type=float, default=120.0, help="time limit of each torch.compile child process")
    parser.add_argument("--tests-junit", type=Path, default=None, help="pytest JUnit XML of the gpu tests, summarized in the results")
    parser.add_argument("--dry-run", action="store_true", help="CPU, lsnet_t, 64x64, batch 2, tiny windows, compile limit 3 s: all but CUDA")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ska", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dry_run:  # compile gets 3 s: its child process is started and killed at the limit
        args.device, args.models, args.batch, args.img_size, args.warmup, args.min_time = "cpu", "lsnet_t", 2, 64, 0.0, 0.02
        args.compile_timeout = 3.0
    return args


def plan_from(args: argparse.Namespace) -> Plan:
    from lsnet.bench.paper import protocol_batch
    from lsnet.choices import pick
    from lsnet.errors import UnknownModelError, UnknownOptionError
    from lsnet.variants import VARIANTS

    models = tuple(pick("model", m.strip(), VARIANTS, UnknownModelError) for m in args.models.split(",") if m.strip())
    if args.budget_s < 0 or args.compile_timeout <= 0 or (args.batch is not None and args.batch < 1):
        raise UnknownOptionError("--budget-s must be >= 0, --compile-timeout > 0 and --batch >= 1.")
    return Plan(args.device, models, protocol_batch(args.device, args.batch), args.img_size,
                Settings(args.warmup, 1, args.min_time, 1), args.budget_s, args.compile_timeout)


def main(argv: list[str] | None = None) -> None:
    """Measure, write the results file (and the table beside it), print the table."""
    from lsnet.bench.commands import emit

    args = parse_args(argv)
    plan = plan_from(args)
    if args.child:
        child(plan, args.child, args.ska, args.reference, args.out)
        return
    run = GpuRun(plan, args.out, junit_summary(args.tests_junit))
    log(f"measuring {', '.join(plan.models)} on {run.environment['machine']}: batch {plan.batch}, {plan.img_size}x{plan.img_size},"
        f" windows {plan.settings.warmup_s:g} s / {plan.settings.min_time_s:g} s, budget {plan.budget_s:.0f} s")
    emit(run.run(), args.out, None, None)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
