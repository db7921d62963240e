"""FP32 vs INT8 latency on this CPU (ONNX Runtime or LiteRT), beside a peer quantized the same way, in one interleaved run.

    PYTHONPATH=. python bench/int8_vs_fp32.py --model lsnet_t --weights W.pth --labels L.txt --calib CALIB/ --eval HELDOUT/ \\
        --peer-onnx artifacts/peers/mobilenetv3_large_100.onnx --batches 1,8 --min-time 10 --rounds 10

Exports ``<model>_224.onnx`` and ``<model>_224_int8.onnx`` (with ``--eval``, both measure held-out accuracy),
quantizes the peer's FP32 ONNX (made by ``python -m lsnet.bench.peers``) exactly like our INT8 export, and
times all of them exactly as ``lsnet bench A B C D --batch 1,8 ...`` would (interleaved rounds). Every INT8 row
records its quantization, its held-out accuracy (where measured) and ``int8_over_fp32``: its p50 over the
same model's FP32 p50 at that batch. ``--format litert`` compares the FP32 and integer ``.tflite`` exports
instead (LiteRT's XNNPACK CPU path; fixed batch 1, no peer), ``--format openvino`` the FP32 and NNCF INT8 IRs
(no peer):

    PYTHONPATH=. python bench/int8_vs_fp32.py --format litert --batches 1 --calib CALIB/ --min-time 5 --rounds 6

Writes bench/results/int8_vs_fp32_<host>_<date>.json (schema
lsnet-bench/1) and the table beside it as .md.
"""
import argparse
from pathlib import Path
from typing import Any

from lsnet.errors import UnknownOptionError

ROW_SIDECAR_KEYS = ("accuracy",)
INT8_SUMMARY_KEYS = ("method", "kept_float", "float_nodes", "calibration", "agreement_with_fp32")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``argv`` None: sys.argv)."""
    from lsnet.bench.artifacts import add_export_options
    from lsnet.bench.commands import add_sweep_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_options(parser)
    add_sweep_options(parser, "1,8", "int8_vs_fp32")
    parser.add_argument("--peer-onnx", type=Path, default=None,
                        help="FP32 ONNX of a peer (python -m lsnet.bench.peers): quantized the same way and timed in the same run")
    parser.add_argument("--format", default="onnx", choices=("onnx", "litert", "openvino"),
                        help="onnx (ONNX Runtime, Q/DQ INT8), litert (LiteRT/XNNPACK, integer .tflite; batch 1 only)"
                             " or openvino (NNCF INT8 IR)")
    parser.add_argument("--artifacts-dir", type=Path, default=None, help="keep the exported artifacts here (reused when present)")
    args = parser.parse_args(argv)
    if args.peer_onnx is not None and (args.peer_onnx.suffix != ".onnx" or not args.peer_onnx.is_file()):
        raise UnknownOptionError(f"--peer-onnx {args.peer_onnx} is not an ONNX file: export one with python -m lsnet.bench.peers --out DIR.")
    if args.format != "onnx" and args.peer_onnx is not None:
        raise UnknownOptionError(f"--peer-onnx is quantized with ONNX Runtime: use it with --format onnx, not {args.format}.")
    if args.format == "litert" and args.batches.replace(" ", "") != "1":
        raise UnknownOptionError("--format litert exports a fixed batch of 1: pass --batches 1.")
    return args


def add_int8_summary(candidate: Any) -> None:
    """Record how an INT8 artifact was quantized and the held-out accuracy of any artifact in its results row."""
    info = candidate.runner.info.metadata
    meta = candidate.extra["metadata"]
    meta.update({key: info[key] for key in ROW_SIDECAR_KEYS if key in info})
    if info.get("int8"):
        meta["int8"] = {key: info["int8"].get(key) for key in INT8_SUMMARY_KEYS if key in info["int8"]}


def add_int8_ratios(doc: dict[str, Any]) -> list[str]:
    """``metadata.int8_over_fp32`` on every INT8 row (p50 over the same model's FP32 p50, same batch); summary lines."""
    fp32 = {(r["model"], r["batch"]): r for r in doc["rows"] if r["precision"] == "fp32" and r.get("latency_ms")}
    lines = []
    for row in doc["rows"]:
        base = fp32.get((row["model"], row["batch"]))
        if row["precision"] != "int8" or base is None or not row.get("latency_ms"):
            continue
        ratio = row["latency_ms"]["p50"] / base["latency_ms"]["p50"]
        row["metadata"]["int8_over_fp32"] = round(ratio, 4)
        lines.append(f"{row['model']} batch {row['batch']}: INT8/FP32 p50 = {ratio:.3f}")
    return lines


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Export FP32 and INT8 (and quantize the peer) into ``folder`` and measure them with the harness."""
    from lsnet.bench.artifacts import fp32_and_int8, quantized_peer
    from lsnet.bench.commands import sweep_artifacts

    def export_all() -> list[str]:
        options = {key: value for key in ("eval_folder", "labels") if (value := getattr(args, key)) is not None}
        paths = fp32_and_int8(args.model, args.weights, folder, args.calib, args.img_size, args.format, **options)
        targets = [paths["fp32"], paths["int8"]]
        if args.peer_onnx:
            targets += [args.peer_onnx, quantized_peer(args.peer_onnx, folder, args.calib, args.img_size)]
        return [str(p) for p in targets]

    doc = sweep_artifacts(export_all, args, "bench/int8_vs_fp32.py", add_int8_summary)
    for line in add_int8_ratios(doc):
        print(line)
    return doc


def main(argv: list[str] | None = None) -> Path:
    """Run the comparison, print the table and write the results; returns the results path."""
    from lsnet.bench.commands import export_measure_emit

    args = parse_args(argv)
    return export_measure_emit(benchmark, args, "int8_vs_fp32", args.artifacts_dir)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
