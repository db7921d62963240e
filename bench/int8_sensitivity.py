"""Which LSNet convolutions decide INT8 accuracy? Held-out accuracy per float group, calibration method and size.

    PYTHONPATH=. python bench/int8_sensitivity.py lsnet_t --weights W.pth --labels labels.txt \\
        --calib CALIB/ --eval HELDOUT/ [--study groups,methods,counts]

Quantizes the model's FP32 ONNX (the default export) once per configuration with the quantizer of
``lsnet export --int8`` and measures, on the labelled ``--eval`` folder (never used for calibration),
the INT8 and FP32 (ONNX Runtime) top-1 and their top-1 agreement and logit cosine, plus the agreement on the
held-out split of the calibration folder that the export gate judges. Studies:

- ``groups``: the default float groups before this study (``BASELINE_GROUPS``), then each candidate of
  ``NODE_GROUPS`` kept in float on top of it (one at a time), everything quantized, and the default;
- ``methods``: min-max / percentile / entropy calibration with the default float groups;
- ``counts``: 16 / 40 / 80 / all calibration images with the default float groups.

Writes JSON rows with the machine (``--out``, default bench/results/int8/sensitivity_<model>_<host>_<date>.json)
and prints a markdown table. Used to choose ``lsnet.export.onnx_int8.FLOAT_GROUPS`` (docs/int8.md).
"""
import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BASELINE_GROUPS = ("lkp_norm", "ska", "attention", "se", "bn", "head")  # the default before this study
STUDIES = ("groups", "methods", "counts")
COUNTS = (16, 40, 80)


def configurations(study: str, calibration_images: int) -> list[dict[str, Any]]:
    """The configurations of one study: name, float groups, op types quantized, method, calibration images."""
    from lsnet.export.onnx_int8 import CALIBRATION_METHOD, FLOAT_GROUPS, NODE_GROUPS, QUANTIZED_OPS

    def config(name: str, groups: tuple[str, ...], ops: tuple[str, ...] | None = QUANTIZED_OPS,
               method: str = CALIBRATION_METHOD, count: int = calibration_images) -> dict[str, Any]:
        return {"config": name, "groups": groups, "ops": ops, "method": method, "count": count}

    if study == "groups":
        rows = [config("baseline (float groups before this study)", BASELINE_GROUPS)]
        rows += [config(f"baseline + float {g}", (*BASELINE_GROUPS, g)) for g in NODE_GROUPS if g not in BASELINE_GROUPS]
        rows.append(config("all ops quantized", (), None))
        rows.append(config("default", FLOAT_GROUPS))
        return rows
    if study == "methods":
        return [config(f"default, {m}", FLOAT_GROUPS, method=m) for m in ("minmax", "percentile", "entropy")]
    return [config(f"default, {n} images", FLOAT_GROUPS, count=n) for n in (*COUNTS, calibration_images) if n <= calibration_images]


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Top-1 agreement of two logit arrays."""
    return float(np.mean(a.argmax(1) == b.argmax(1)))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two logit arrays, flattened."""
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b)))


def main(argv: list[str] | None = None) -> Path:
    """Run the studies, print the table, write the rows; returns the results path."""
    from lsnet.bench import environment
    from lsnet.bench.results import default_path
    from lsnet.errors import UnknownOptionError
    from lsnet.export import export
    from lsnet.export.api import build_reference
    from lsnet.export.artifact import write_json_atomic
    from lsnet.export.int8_calibration import calibration_data, load_folder
    from lsnet.export.onnx_int8 import float_nodes, pre_process, quantize_qdq, run_session
    from lsnet.export.options import ExportOptions
    from lsnet.runtimes.evaluate import class_folders, list_images, match_folders

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="lsnet_t")
    parser.add_argument("--weights", type=Path, required=True, help="trained checkpoint")
    parser.add_argument("--labels", type=Path, default=None, help="class names file (matches --eval folders by name)")
    parser.add_argument("--calib", required=True, help="calibration image folder (every 5th image is the gate's held-out split)")
    parser.add_argument("--eval", dest="eval_folder", type=Path, required=True, help="labelled held-out folder")
    parser.add_argument("--study", default=",".join(STUDIES), help=f"comma list of {', '.join(STUDIES)}")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    studies = [s.strip() for s in args.study.split(",") if s.strip()]
    if not studies or any(s not in STUDIES for s in studies):
        raise UnknownOptionError(f"--study {args.study}: choose from {', '.join(STUDIES)}.")

    options = {"weights": args.weights, **({"labels": args.labels} if args.labels else {})}
    reference = build_reference(args.model, ExportOptions(**options))
    cfg = reference.pretrained_cfg
    folders = class_folders(args.eval_folder)
    mapping, _, matched_by = match_folders(folders, cfg.num_classes, cfg.labels)
    items = list_images(folders, mapping)
    targets = np.asarray([label for _, label in items])
    eval_inputs = load_folder([path for path, _ in items], cfg)  # a few hundred images: held in memory
    data = calibration_data(args.calib, cfg)
    gate_name = data.gated
    rows = []
    print("| configuration | float nodes | method | calib images | INT8 top-1 | FP32 top-1 | agreement | cosine | gate agreement |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export(reference, "onnx", output=fp32, validate=False)
        prepared = Path(tmp) / "prepared.onnx"
        pre_process(fp32, prepared)
        fp32_eval = run_session(prepared, eval_inputs, None)
        fp32_gate = run_session(prepared, data.heldout[gate_name], None)
        for study in studies:
            for cfg in configurations(study, len(data.calibration)):
                start = time.perf_counter()
                int8 = Path(tmp) / "int8.onnx"
                cache = Path(tmp) / f"ranges_{cfg['method']}_{cfg['count']}_{'-'.join(cfg['ops'] or ['all'])}.json"
                excluded, method = quantize_qdq(prepared, int8, data.calibration[: cfg["count"]], None, cfg["groups"],
                                                cfg["method"], cfg["ops"], calibration_cache=cache)
                int8_eval = run_session(int8, eval_inputs, None)
                row = {
                    "study": study, **cfg, "method": method, "float_nodes": len(excluded),
                    "float_convs": len(float_nodes(prepared, cfg["groups"])) if cfg["ops"] else 0,
                    "int8_top1": float(np.mean(int8_eval.argmax(1) == targets)),
                    "fp32_top1": float(np.mean(fp32_eval.argmax(1) == targets)),
                    "top1_agreement": agreement(int8_eval, fp32_eval), "cosine": cosine(int8_eval, fp32_eval),
                    "gate_top1_agreement": agreement(run_session(int8, data.heldout[gate_name], None), fp32_gate),
                    "seconds": round(time.perf_counter() - start, 1),
                }
                rows.append(row)
                print(f"| {row['config']} | {row['float_nodes']} | {method} | {cfg['count']} | {100 * row['int8_top1']:.1f}% |"
                      f" {100 * row['fp32_top1']:.1f}% | {row['top1_agreement']:.3f} | {row['cosine']:.4f} | {row['gate_top1_agreement']:.3f} |", flush=True)
    out = args.out or default_path(f"int8/sensitivity_{args.model}")
    write_json_atomic(out, {
        "source": "bench/int8_sensitivity.py",
        "environment": environment.describe("cpu", None),
        "model": args.model, "weights": str(args.weights), "eval": {"folder": str(args.eval_folder), "images": len(targets),
                                                                   "classes_matched_by": matched_by},
        "calibration": data.to_dict(), "gate_case": gate_name, "rows": rows,
    })
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
