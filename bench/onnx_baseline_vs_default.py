"""Straightforward ONNX export (baseline) vs lsnet's default ONNX export, timed with the ``lsnet bench`` harness.

    python -m lsnet.bench.onnx_baseline_vs_default --threads 2 --min-time 20 --rounds 20 --ablate-rewrites \\
        --out bench/results/onnx_baseline_vs_default_cpu.json

Exports the baseline (``baseline=True``: unfold SKA, legacy exporter, no simplification), the default export,
with ``--ska`` the default export with other SKA formulations, and with ``--ablate-rewrites`` the default export
without any ONNX Runtime layout rewrite and without each one in turn (seeded random init: latency does not depend
on the weight values), then runs them exactly as ``lsnet bench baseline.onnx default.onnx ...`` would:
interleaved rounds, one ONNX Runtime session per artifact, ``ratio_to_first`` relative to the baseline, a
``lsnet-bench/1`` results file and the markdown table beside it.
"""
import argparse
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``argv`` None: sys.argv)."""
    from lsnet.bench.commands import add_sweep_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--ska", action="append", default=[], help="also time the default export with this SKA (repeatable)")
    parser.add_argument("--ablate-rewrites", action="store_true",
                        help="also time the default export with no layout rewrite and without each one")
    add_sweep_options(parser, "1", "onnx_baseline_vs_default")
    return parser.parse_args(argv)


def rewrite_ablations() -> dict[str, str]:
    """File stem -> ``rewrites`` option: no rewrite at all, then every rewrite but one."""
    from lsnet.export.onnx_rewrites import REWRITES

    ablations = {"rewrites_none": "none"}
    for name in REWRITES:
        ablations[f"without_{name.replace('-', '_')}"] = ",".join(other for other in REWRITES if other != name)
    return ablations


def export_targets(model: str, img_size: int, folder: Path, skas: list[str], ablate_rewrites: bool) -> list[str]:
    """Paths of the baseline, the default, the extra-SKA and the rewrite-ablation exports of ``model`` in ``folder``."""
    from lsnet.export import export

    paths = [export(model, "onnx", img_size=img_size, baseline=True, output=folder / "baseline.onnx").path,
             export(model, "onnx", img_size=img_size, output=folder / "default.onnx").path]
    paths += [export(model, "onnx", img_size=img_size, ska=ska, output=folder / f"ska_{ska}.onnx").path for ska in skas]
    if ablate_rewrites:
        paths += [export(model, "onnx", img_size=img_size, rewrites=rewrites, output=folder / f"{stem}.onnx").path
                  for stem, rewrites in rewrite_ablations().items()]
    return [str(p) for p in paths]


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Export into ``folder`` and measure with the harness; the results document."""
    from lsnet.bench.commands import sweep_artifacts

    return sweep_artifacts(lambda: export_targets(args.model, args.img_size, folder, args.ska, args.ablate_rewrites), args,
                           "bench/onnx_baseline_vs_default.py")


def main(argv: list[str] | None = None) -> Path:
    """Run the comparison, print the table and write the results; returns the results path."""
    from lsnet.bench.commands import export_measure_emit

    return export_measure_emit(benchmark, parse_args(argv), "onnx_baseline_vs_default")


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
