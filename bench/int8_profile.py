"""Which Q/DQ patterns does ONNX Runtime fuse? Per-operator time of ONNX models from ORT's own profiler.

    PYTHONPATH=. python bench/int8_profile.py A.onnx A_int8.onnx B.onnx B_int8.onnx --batch 1 --runs 50

For each model: the operator types ONNX Runtime actually executed after its graph optimizations (a fused
Q/DQ group runs as one QLinearConv / QGemm / QLinearAdd ... node; an unfused one leaves QuantizeLinear /
DequantizeLinear nodes of its own), their node count and share of the kernel time, and the share spent in
standalone Q/DQ nodes. Writes JSON with the machine (``--out``, default
bench/results/int8/profile_<host>_<date>.json) and prints a markdown table per model.
"""
import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})


def profile(path: Path, batch: int, runs: int, threads: int | None) -> dict[str, Any]:
    """Per-op-type node count and kernel time (microseconds) over ``runs`` calls after one warm-up call."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        spec = session.get_inputs()[0]
        feed = {spec.name: np.random.default_rng(0).standard_normal((batch, *spec.shape[1:])).astype(np.float32)}
        session.run(None, feed)
        for _ in range(runs):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    time_us: dict[str, float] = defaultdict(float)
    nodes: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        op = event["args"]["op_name"]
        time_us[op] += event["dur"]
        nodes[op].add(event["name"])
    total = sum(time_us.values())
    ops = {
        op: {"nodes": len(nodes[op]), "ms_per_run": time_us[op] / 1000 / (runs + 1), "share": time_us[op] / total}
        for op in sorted(time_us, key=time_us.get, reverse=True)
    }
    return {
        "model": str(path),
        "batch": batch,
        "runs": runs,
        "kernel_ms_per_run": total / 1000 / (runs + 1),
        "standalone_qdq_share": sum(v["share"] for op, v in ops.items() if op in QDQ_OPS),
        "standalone_qdq_nodes": sum(v["nodes"] for op, v in ops.items() if op in QDQ_OPS),
        "ops": ops,
    }


def main(argv: list[str] | None = None) -> Path:
    """Profile every model, print the tables, write the JSON; returns its path."""
    from lsnet.bench import environment
    from lsnet.bench.results import default_path
    from lsnet.errors import UnknownOptionError
    from lsnet.export.artifact import write_json_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="ONNX files")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    missing = [m for m in args.models if not m.is_file() or m.suffix != ".onnx"]
    if missing:
        raise UnknownOptionError(f"{missing[0]} is not an ONNX file: pass exported .onnx models.")
    if args.batch < 1 or args.runs < 1:
        raise UnknownOptionError("--batch and --runs must be >= 1.")
    results = [profile(m, args.batch, args.runs, args.threads) for m in args.models]
    for r in results:
        print(f"\n{r['model']} (batch {r['batch']}): kernel time {r['kernel_ms_per_run']:.2f} ms/run,"
              f" standalone Q/DQ {100 * r['standalone_qdq_share']:.1f}% in {r['standalone_qdq_nodes']} nodes")
        print("| op | nodes | ms/run | share |\n|---|---|---|---|")
        for op, v in list(r["ops"].items())[:12]:
            print(f"| {op} | {v['nodes']} | {v['ms_per_run']:.3f} | {100 * v['share']:.1f}% |")
    out = args.out or default_path("int8/profile")
    write_json_atomic(out, {"source": "bench/int8_profile.py", "environment": environment.describe("cpu", args.threads), "profiles": results})
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
