"""Which LSNet operators lose accuracy in INT8? Quantize with one node group kept in float at a time.

    PYTHONPATH=. python bench/int8_sensitivity.py lsnet_t --weights W.pth --calib 64 [--method minmax]

Prints a markdown table (top-1/top-5 agreement and cosine vs FP32 on calibration and held-out inputs)
and writes the rows as JSON (``--out``). Used to choose ``lsnet.export.onnx_int8.FLOAT_GROUPS``.
"""
import argparse
import tempfile
from pathlib import Path

from lsnet.export.artifact import write_json_atomic
from lsnet.export.int8_calibration import calibration_data
from lsnet.export.onnx_int8 import FLOAT_GROUPS, NODE_GROUPS, QUANTIZED_OPS, agreement_report, pre_process, quantize_qdq
from lsnet.export.parity import Thresholds


def configurations() -> dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]]:
    """Name -> (groups kept in float, op types quantized or None for all): every op, one group in float, the default."""
    configs: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {"all ops quantized": ((), None)}
    configs.update({f"all ops, float: {g}": ((g,), None) for g in NODE_GROUPS})
    configs[f"only {'/'.join(QUANTIZED_OPS)} quantized (default)"] = (FLOAT_GROUPS, QUANTIZED_OPS)
    configs["only Conv quantized"] = (FLOAT_GROUPS, ("Conv",))
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="lsnet_t")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--calib", default="64", help="image folder or number of synthetic images")
    parser.add_argument("--method", default="percentile", choices=["minmax", "percentile", "entropy"])
    parser.add_argument("--only", nargs="*", default=None, help="run only these configuration names")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the rows")
    args = parser.parse_args()

    from lsnet.export.api import export

    limits = Thresholds(float("inf"), float("inf"), 0.0, 0.0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        result = export(args.model, "onnx", weights=args.weights, output=fp32)
        from lsnet.factory import create_model

        cfg = create_model(args.model).pretrained_cfg
        data = calibration_data(args.calib, cfg)
        prepared = Path(tmp) / "prepared.onnx"
        pre_process(result.path, prepared)
        print(f"| kept in float | float nodes | case | top-1 | top-5 | cosine |\n|---|---|---|---|---|---|")
        for name, (groups, op_types) in configurations().items():
            if args.only and name not in args.only:
                continue
            int8 = Path(tmp) / "int8.onnx"
            excluded, _ = quantize_qdq(prepared, int8, data.calibration, None, groups, args.method, op_types)
            report = agreement_report(prepared, int8, data, None, limits)
            for case in report.cases:
                print(f"| {name} | {len(excluded)} | {case.case} | {case.top1_agreement:.3f} | {case.top5_agreement:.3f} | {case.cosine:.4f} |", flush=True)
                rows.append({"config": name, "float_nodes": len(excluded), "method": args.method, **case.__dict__})
    if args.out:
        write_json_atomic(args.out, {"model": args.model, "weights": str(args.weights), "calibration": data.to_dict(), "rows": rows})


if __name__ == "__main__":
    main()
