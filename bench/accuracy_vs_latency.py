"""Held-out accuracy beside latency for one trained checkpoint: PyTorch, FP32 ONNX and FP16 ONNX in one run.

    PYTHONPATH=. python bench/accuracy_vs_latency.py --weights ../shared/trained/lsnet_t_photos10.pth \
        --labels ../shared/trained/labels.txt --heldout ../shared/trained/heldout --batches 1,8

Exports the checkpoint (with its labels) to FP32 and FP16 ONNX, measures every target's top-1/top-5 on the
held-out folder with ``lsnet eval``, then times them exactly as ``lsnet bench CKPT FP32.onnx FP16.onnx --eval
HELDOUT`` would (interleaved rounds). Writes bench/results/accuracy_vs_latency_<host>_<date>.json (schema
lsnet-bench/1, accuracy in every row) and the table beside it; ``lsnet bench report`` draws it as the
accuracy-vs-latency picture.
"""
import argparse
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``argv`` None: sys.argv)."""
    from lsnet.bench.commands import add_sweep_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lsnet_t", help="variant of the checkpoint")
    parser.add_argument("--weights", type=Path, required=True, help="trained checkpoint (its head decides the classes)")
    parser.add_argument("--labels", type=Path, default=None, help="class names, one per line, in the head's order")
    parser.add_argument("--heldout", type=Path, required=True, help="labelled folder: one subfolder of images per class")
    add_sweep_options(parser, "1,8", "accuracy_vs_latency")
    parser.add_argument("--artifacts-dir", type=Path, default=None, help="keep the exported artifacts here")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Export FP32 and FP16 ONNX into ``folder``, measure accuracy and latency; the results document."""
    from lsnet.bench.accuracy import measure_accuracy
    from lsnet.bench.commands import sweep_artifacts
    from lsnet.export import export
    from lsnet.runtimes.evaluate import class_folders

    class_folders(args.heldout)  # a bad folder fails before any export

    def export_all() -> list[str]:
        paths = [str(args.weights)]
        for half in (False, True):
            out = folder / f"{args.weights.stem}{'_fp16' if half else ''}.onnx"
            paths.append(str(export(args.model, "onnx", weights=args.weights, labels=args.labels, half=half, output=out).path))
        return paths

    return sweep_artifacts(export_all, args, "bench/accuracy_vs_latency.py", lambda c: measure_accuracy([c], args.heldout, args.labels))


def main(argv: list[str] | None = None) -> Path:
    """Run the comparison, print the table and write the results; returns the results path."""
    from lsnet.bench.commands import export_measure_emit

    args = parse_args(argv)
    return export_measure_emit(benchmark, args, "accuracy_vs_latency", args.artifacts_dir)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
