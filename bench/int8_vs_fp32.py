"""FP32 vs INT8 ONNX Runtime latency on this CPU, timed interleaved (round-robin) so both see the same load.

    PYTHONPATH=. python bench/int8_vs_fp32.py --model lsnet_t --batches 1,8 --rounds 10 --iters 20 --threads 0

Writes bench/results/int8_vs_fp32_<host>_<date>.json (schema lsnet-bench/1).
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    from lsnet.bench.artifacts import fp32_and_int8
    from lsnet.bench.results_io import default_results_path, environment, latency_summary
    from lsnet.export.metadata import timestamp
    from lsnet.runtimes.registry import open_runner

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--calib", default="64")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--iters", type=int, default=20, help="timed calls per target per round")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0: default)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = fp32_and_int8(args.model, args.weights, Path(tmp), args.calib)
        options = {"threads": args.threads} if args.threads else {}
        runners = {name: open_runner(path, **options) for name, path in paths.items()}
        metas = {name: json.loads(Path(str(p) + ".json").read_text()) for name, p in paths.items()}
        for batch in [int(b) for b in args.batches.split(",")]:
            x = np.random.default_rng(0).standard_normal((batch, 3, *metas["fp32"]["img_size"])).astype(np.float32)
            times: dict[str, list[float]] = {name: [] for name in runners}
            for runner in runners.values():
                for _ in range(args.warmup):
                    runner.infer(x)
            for _ in range(args.rounds):
                for name, runner in runners.items():
                    for _ in range(args.iters):
                        start = time.perf_counter()
                        runner.infer(x)
                        times[name].append(time.perf_counter() - start)
            first_p50 = None
            for name, seconds in times.items():
                lat = latency_summary(seconds)
                first_p50 = first_p50 or lat["p50"]
                print(f"{name} batch {batch}: p50 {lat['p50']:.2f} ms", flush=True)
                rows.append({
                    "target": paths[name].name, "model": args.model, "runtime": "onnxruntime", "device": "cpu",
                    "precision": name, "ska": metas[name].get("ska"), "batch": batch, "img_size": metas[name]["img_size"],
                    "latency_ms": lat, "throughput_ips": batch / (lat["mean"] / 1000.0), "iterations": len(seconds),
                    "ratio_to_first": lat["p50"] / first_p50, "status": "ok",
                    "metadata": {"int8": {k: metas[name]["int8"].get(k) for k in ("method", "kept_float", "calibration")} if name == "int8" else None},
                })
        for runner in runners.values():
            runner.close()
    data = {
        "schema": "lsnet-bench/1", "created": timestamp(), "environment": {**environment("bench/int8_vs_fp32.py"), "threads": args.threads or None},
        "settings": {"warmup_iters": args.warmup, "rounds": args.rounds, "protocol": f"interleaved: {args.rounds} rounds x {args.iters} calls per target, host numpy in/out"},
        "rows": rows,
    }
    out = args.out or default_results_path("int8_vs_fp32")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
