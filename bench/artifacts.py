"""FP32 and INT8 ONNX artifacts of one model for the serving and INT8 benchmarks (exported once into a folder)."""
import argparse
from pathlib import Path


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """--model, --weights, --img-size and --calib: what ``fp32_and_int8`` exports."""
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--weights", type=Path, default=None, help="checkpoint (default: untrained weights; latency does not depend on them)")
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--calib", default="64", help="INT8 calibration: image folder or number of synthetic images")


def fp32_and_int8(model: str, weights: Path | None, folder: Path, calib: str, img_size: int = 224) -> dict[str, Path]:
    """Export ``model`` to FP32 and INT8 ONNX in ``folder`` (reused when present); {'fp32': path, 'int8': path}.

    The INT8 export keeps its FP32-agreement report in the sidecar but is not refused on it: latency
    does not depend on the weights, and the benchmark may run with untrained weights.
    """
    from lsnet.export import export

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"fp32": folder / f"{model}_{img_size}.onnx", "int8": folder / f"{model}_{img_size}_int8.onnx"}
    if not paths["fp32"].is_file():
        export(model, "onnx", weights=weights, img_size=img_size, output=paths["fp32"])
    if not paths["int8"].is_file():
        export(model, "onnx", weights=weights, img_size=img_size, output=paths["int8"], int8=True, calib=calib, validate=False)
    return paths
