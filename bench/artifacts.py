"""FP32 and INT8 ONNX artifacts for the serving and INT8 benchmarks (exported once into a folder)."""
import argparse
from pathlib import Path
from typing import Any


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """--model, --weights, --img-size, --calib, --labels and --eval: what ``fp32_and_int8`` exports."""
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--weights", type=Path, default=None, help="checkpoint (default: untrained weights; latency does not depend on them)")
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--calib", default="64", help="INT8 calibration: image folder or number of synthetic images")
    parser.add_argument("--labels", type=Path, default=None, help="class names file of the checkpoint's head")
    parser.add_argument("--eval", dest="eval_folder", type=Path, default=None,
                        help="labelled folder: the exports measure held-out accuracy (recorded in the rows)")


def fp32_and_int8(model: str, weights: Path | None, folder: Path, calib: str, img_size: int = 224,
                  format: str = "onnx", **export_options: Any) -> dict[str, Path]:
    """Export ``model`` to FP32 and INT8 ``format`` (onnx, litert or openvino) in ``folder`` (reused when present);
    {'fp32': path, 'int8': path}.

    The INT8 export keeps its FP32-agreement report in the sidecar but is not refused on it: latency
    does not depend on the weights, and the benchmark may run with untrained weights. ``export_options``
    (e.g. ``eval_folder``) go to both exports.
    """
    from lsnet.export import export
    from lsnet.export.formats import resolve_format

    suffix = resolve_format(format).suffix
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"fp32": folder / f"{model}_{img_size}{suffix}", "int8": folder / f"{model}_{img_size}_int8{suffix}"}
    if not paths["fp32"].is_file():
        export(model, format, weights=weights, img_size=img_size, output=paths["fp32"], **export_options)
    if not paths["int8"].is_file():
        export(model, format, weights=weights, img_size=img_size, output=paths["int8"], int8=True, calib=calib,
               validate=False, **export_options)
    return paths


def quantized_peer(fp32: Path, folder: Path, calib: str, img_size: int = 224) -> Path:
    """A peer's FP32 ONNX (``python -m lsnet.bench.peers``) quantized exactly like our INT8 export: the same
    pre-processing, quantizer settings, float groups and calibration images; with a sidecar. Reused when present."""
    import tempfile

    from lsnet.config import PretrainedCfg
    from lsnet.export.artifact import staged, write_json_atomic
    from lsnet.runtimes.artifact_metadata import read_sidecar, sidecar_path
    from lsnet.export.int8_calibration import calibration_data
    from lsnet.export.onnx_int8 import quantization_summary, pre_process, quantize_qdq

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{Path(fp32).stem}_int8.onnx"
    if out.is_file():
        return out
    data = calibration_data(calib, PretrainedCfg(input_size=(3, img_size, img_size)))
    with tempfile.TemporaryDirectory() as tmp, staged(out) as temp:
        prepared = Path(tmp) / "prepared.onnx"
        pre_process(Path(fp32), prepared)
        excluded, method = quantize_qdq(prepared, temp, data.calibration, None)
    metadata = {**read_sidecar(Path(fp32)), "precision": "int8", "int8": quantization_summary(method, excluded, data)}
    write_json_atomic(sidecar_path(out), metadata)
    return out
