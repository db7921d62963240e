"""``lsnet demo``: export lsnet_t to ONNX, prove parity, and time PyTorch vs ONNX Runtime on this CPU."""
import os
import sys
from pathlib import Path

import typer

DEMO_MODEL = "lsnet_t"


def demo(
    out: Path = typer.Option(Path("lsnet_demo"), "--out", help="Folder for the exported model and its sidecar."),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint of lsnet_t (random init if omitted)."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads for both runtimes (default: all cores)."),
    rounds: int = typer.Option(5, "--rounds", help="Interleaved timing rounds."),
    min_time: float = typer.Option(3.0, "--min-time", help="Timed seconds per runtime, over all rounds."),
) -> None:
    """Export lsnet_t to ONNX, validate it, and compare PyTorch eager with ONNX Runtime at batch 1. No model download needed."""
    from lsnet.bench.commands import run_sweep
    from lsnet.bench.harness import Settings
    from lsnet.bench.report import markdown_table, terminal_table
    from lsnet.bench.targets import open_targets
    from lsnet.export import export
    from lsnet.export.validate import format_report

    threads = threads or os.cpu_count() or 1
    target = out / f"{DEMO_MODEL}.onnx"
    typer.echo(f"1/3 exporting {DEMO_MODEL} to {target} ...")
    result = export(DEMO_MODEL, "onnx", weights=weights, output=target)
    typer.echo(f"2/3 parity with PyTorch ({result.metadata['ska']} SKA, opset {result.metadata['opset']}):")
    typer.echo(format_report(result.parity))
    typer.echo(f"3/3 batch-1 latency on this CPU ({threads} threads, interleaved rounds, lsnet.bench harness):")
    pytorch_target = DEMO_MODEL if weights is None else str(weights)
    candidates = open_targets([pytorch_target, str(target)], "cpu", threads=threads)
    settings = Settings(warmup_s=1.0, warmup_iters=5, min_time_s=min_time, rounds=rounds)
    doc = run_sweep(candidates, [1], "cpu", threads, settings, quiet=True)
    typer.echo(terminal_table([doc]) if sys.stdout.isatty() else markdown_table([doc]))
    typer.echo(f"artifact: {result.path}  sidecar: {result.sidecar}")
