"""Straightforward ONNX export (baseline) vs lsnet's default ONNX export, timed interleaved in ONNX Runtime.

    python -m lsnet.bench.onnx_baseline_vs_default --out bench/results/onnx_baseline_vs_default_cpu.json

Exports both (seeded random init: latency does not depend on the weight values) into a temporary
folder, opens them in ONNX Runtime on the CPU with the same threads, and times them round-robin so
that a shared machine's drifts hit both alike. Optional extra targets: other SKA formulations of
the default export (``--ska shift``) and session-option variants (``--session-variants``). Writes a
results file of schema ``lsnet-bench/1``; ``ratio_to_first`` is relative to the baseline.
"""
import argparse
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from lsnet.export.metadata import timestamp, tool_versions

SESSION_VARIANTS = {
    "no intra-op spinning": {"spinning": False},
    "graph optimization extended (no NCHWc layout)": {"graph_optimization": "extended"},
}


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def export_targets(model: str, folder: Path, skas: list[str], session_variants: bool) -> list[tuple[str, Path, dict]]:
    """(label, .onnx path, runner options) for the baseline, the default, and the requested extras."""
    from lsnet.export import export

    baseline = export(model, "onnx", baseline=True, output=folder / "baseline.onnx").path
    default = export(model, "onnx", output=folder / "default.onnx")
    targets = [("baseline (unfold SKA, no simplification)", baseline, {}),
               (f"default ({default.metadata['ska']} SKA)", default.path, {})]
    for ska in skas:
        path = export(model, "onnx", ska=ska, output=folder / f"ska_{ska}.onnx").path
        targets.append((f"default with {ska} SKA", path, {}))
    if session_variants:
        targets += [(f"default, {label}", default.path, opts) for label, opts in SESSION_VARIANTS.items()]
    return targets


def run(model: str = "lsnet_t", threads: int = 2, batch: int = 1, rounds: int = 20, iters: int = 20,
        skas: list[str] | None = None, session_variants: bool = False) -> dict[str, Any]:
    """Export, time interleaved, and return a ``lsnet-bench/1`` results document."""
    from lsnet.commands.demo import demo_benchmark
    from lsnet.export.artifact import read_sidecar
    from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    with tempfile.TemporaryDirectory() as tmp:
        targets = export_targets(model, Path(tmp), skas or [], session_variants)
        runners = {label: OnnxRuntimeRunner(path, threads=threads, **opts) for label, path, opts in targets}
        try:
            rows = demo_benchmark(runners, batch=batch, rounds=rounds, iters=iters)
        finally:
            for runner in runners.values():
                runner.close()
        sidecars = {label: read_sidecar(path) for label, path, _ in targets}
    return {
        "schema": "lsnet-bench/1",
        "created": timestamp(),
        "environment": {
            "machine": f"{cpu_name()} ({os.cpu_count()} cores)",
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "threads": threads,
            "gpu": None,
            "python": platform.python_version(),
            "versions": tool_versions("onnx", "onnxruntime", "onnxslim"),
            "source": "lsnet.bench.onnx_baseline_vs_default",
        },
        "settings": {
            "warmup_iters": 5,
            "rounds": rounds,
            "protocol": f"interleaved round-robin: {rounds} rounds x {iters} calls per target, "
                        "per-call perf_counter latencies pooled; ORT CPU EP, I/O binding, batch "
                        f"{batch}, intra-op threads {threads}",
        },
        "rows": [to_schema_row(row, model, batch, sidecars[row["runtime"]]) for row in rows],
    }


def to_schema_row(row: dict[str, Any], model: str, batch: int, sidecar: dict[str, Any]) -> dict[str, Any]:
    """One timing row in the results schema."""
    return {
        "target": row["runtime"],
        "model": model,
        "runtime": "onnxruntime",
        "device": "cpu",
        "precision": sidecar.get("precision", "fp32"),
        "ska": sidecar.get("ska"),
        "batch": batch,
        "img_size": sidecar.get("img_size"),
        "latency_ms": {k: row[f"{k}_ms"] for k in ("p50", "p90", "p99", "mean", "std", "min")},
        "throughput_ips": batch / row["mean_ms"] * 1e3,
        "iterations": row["iterations"],
        "ratio_to_first": row["ratio_to_first"],
        "status": "ok",
        "metadata": {k: sidecar.get(k) for k in ("opset", "ska", "baseline", "simplified", "rewrites", "shapes_annotated")},
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--ska", action="append", default=[], help="extra SKA formulation to time (repeatable)")
    parser.add_argument("--session-variants", action="store_true", help="also time session-option variants")
    parser.add_argument("--out", type=Path, required=True, help="results JSON file")
    args = parser.parse_args()
    from lsnet.export.artifact import write_json_atomic

    results = run(args.model, args.threads, args.batch, args.rounds, args.iters, args.ska, args.session_variants)
    write_json_atomic(args.out, results)
    for row in results["rows"]:
        print(f"{row['target']:52s} p50 {row['latency_ms']['p50']:7.2f} ms  x{row['ratio_to_first']:.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
