"""``lsnet demo``: export lsnet_t to ONNX, prove parity, and time PyTorch vs ONNX Runtime on this CPU."""
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from lsnet.runtimes.base import Runner

DEMO_MODEL = "lsnet_t"


def demo_benchmark(runners: dict[str, Runner], batch: int = 1, rounds: int = 10, iters: int = 10,
                   warmup: int = 5, seed: int = 0) -> list[dict[str, Any]]:
    """Interleaved latency of several runners on one random batch.

    Every round runs ``iters`` calls of each runner in turn, so slow drifts of a shared machine hit all
    runners alike; per-call latencies are pooled. Returns one row per runner (ms: p50, mean, min, and
    the p50 ratio to the first runner). Minimal on purpose: the full harness lives in ``lsnet.bench``.
    """
    rng = np.random.default_rng(seed)
    prepared = {}
    for name, runner in runners.items():
        sample = rng.standard_normal((batch, 3, *runner.input_spec.shape[2:])).astype(np.float32)
        prepared[name] = runner.prepare(sample)
        for _ in range(warmup):
            runner.infer_native(prepared[name])
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            for _ in range(iters):
                start = time.perf_counter()
                runner.infer_native(prepared[name])
                times[name].append((time.perf_counter() - start) * 1e3)
    first = statistics.median(next(iter(times.values())))
    return [
        {
            "runtime": name,
            "batch": batch,
            "p50_ms": statistics.median(t),
            "mean_ms": statistics.fmean(t),
            "min_ms": min(t),
            "ratio_to_first": statistics.median(t) / first,
            "iterations": len(t),
        }
        for name, t in times.items()
    ]


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The benchmark rows as a plain-text table."""
    lines = [f"{'runtime':28s} {'p50 ms':>8s} {'mean ms':>8s} {'min ms':>8s} {'vs first':>9s}"]
    lines += [
        f"{r['runtime']:28s} {r['p50_ms']:8.2f} {r['mean_ms']:8.2f} {r['min_ms']:8.2f} {r['ratio_to_first']:8.2f}x"
        for r in rows
    ]
    return "\n".join(lines)


def demo(
    out: Path = typer.Option(Path("lsnet_demo"), "--out", help="Folder for the exported model and its sidecar."),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint of lsnet_t (random init if omitted)."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads for both runtimes (default: all cores)."),
    rounds: int = typer.Option(10, "--rounds", help="Interleaved timing rounds."),
) -> None:
    """Export lsnet_t to ONNX, validate it, and compare PyTorch eager with ONNX Runtime at batch 1. Offline."""
    from lsnet.export import export
    from lsnet.export.validate import format_report
    from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner
    from lsnet.runtimes.torch_runner import TorchRunner

    if weights is None:
        typer.secho(
            "WARNING: no --weights given: the demo uses randomly initialised lsnet_t weights. Parity and speed are "
            "real; its predictions are meaningless.", fg=typer.colors.YELLOW, err=True,
        )
    threads = threads or os.cpu_count() or 1
    target = out / f"{DEMO_MODEL}.onnx"
    typer.echo(f"1/3 exporting {DEMO_MODEL} to {target} ...")
    result = export(DEMO_MODEL, "onnx", weights=weights, output=target)
    typer.echo(f"2/3 parity with PyTorch ({result.metadata['ska']} SKA, opset {result.metadata['opset']}):")
    typer.echo(format_report(result.parity))
    typer.echo(f"3/3 batch-1 latency on this CPU ({threads} threads, interleaved, {rounds} rounds):")
    runners: dict[str, Runner] = {
        "pytorch eager (BN folded)": TorchRunner(DEMO_MODEL if weights is None else weights, threads=threads),
        "onnxruntime cpu": OnnxRuntimeRunner(target, threads=threads),
    }
    try:
        typer.echo(format_rows(demo_benchmark(runners, rounds=rounds)))
    finally:
        for runner in runners.values():
            runner.close()
    typer.echo(f"artifact: {result.path}  sidecar: {result.sidecar}")
