"""FP32 vs INT8 ONNX Runtime latency on this CPU: export both artifacts, then time them with the ``lsnet bench`` harness.

    PYTHONPATH=. python bench/int8_vs_fp32.py --model lsnet_t --batches 1,8 --min-time 10 --rounds 10

Exports ``<model>_224.onnx`` and ``<model>_224_int8.onnx`` and runs them exactly as
``lsnet bench <model>_224.onnx <model>_224_int8.onnx --batch 1,8 ...`` would (interleaved rounds, ratios vs
FP32, markdown table). Writes bench/results/int8_vs_fp32_<host>_<date>.json (schema lsnet-bench/1) and the
table beside it as .md.
"""
import argparse
from pathlib import Path
from typing import Any

INT8_SUMMARY_KEYS = ("method", "kept_float", "calibration")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``argv`` None: sys.argv)."""
    from lsnet.bench.artifacts import add_export_options
    from lsnet.bench.commands import add_sweep_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_options(parser)
    add_sweep_options(parser, "1,8", "int8_vs_fp32")
    parser.add_argument("--artifacts-dir", type=Path, default=None, help="keep the exported artifacts here (reused when present)")
    return parser.parse_args(argv)


def add_int8_summary(candidate: Any) -> None:
    """Record how an INT8 artifact was quantized (method, float groups, calibration) in its results row."""
    int8 = candidate.runner.info.metadata.get("int8")
    if int8:
        candidate.extra["metadata"]["int8"] = {key: int8.get(key) for key in INT8_SUMMARY_KEYS}


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Export FP32 and INT8 into ``folder`` and measure them with the harness; the results document."""
    from lsnet.bench.artifacts import fp32_and_int8
    from lsnet.bench.commands import sweep_artifacts

    def export_both() -> list[str]:
        paths = fp32_and_int8(args.model, args.weights, folder, args.calib, args.img_size)
        return [str(paths["fp32"]), str(paths["int8"])]

    return sweep_artifacts(export_both, args, "bench/int8_vs_fp32.py", add_int8_summary)


def main(argv: list[str] | None = None) -> Path:
    """Run the comparison, print the table and write the results; returns the results path."""
    from lsnet.bench.commands import export_measure_emit

    args = parse_args(argv)
    return export_measure_emit(benchmark, args, "int8_vs_fp32", args.artifacts_dir)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
