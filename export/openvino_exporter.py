"""OpenVINO export hook: our ONNX export converted to OpenVINO IR (``model.xml`` + ``model.bin``).

Why from ONNX and which SKA: OpenVINO reads the default ONNX export unchanged (dynamic batch kept),
so the IR inherits its checks (rank <= 4, simplified graph) and its exact layout rewrites. The
``conv_im2col`` SKA becomes plain convolutions that OpenVINO's CPU plugin fuses; the ``shift`` SKA
(slices and adds) was slower in a short interleaved single-thread check on this machine, and the
rewrites made no clear difference to OpenVINO, so the ONNX default is kept. FP16 (``--half``) stores the
weights in FP16 (``compress_to_fp16``); the CPU plugin still computes in FP32, GPUs and NPUs in FP16.
INT8 (``--int8 --calib DIR``): NNCF post-training quantization of the FP32 IR (``export/openvino_int8.py``).
"""
import copy
import tempfile
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.deps import require
from lsnet.export.metadata import package_version
from lsnet.export.options import ExportOptions

def preflight_openvino(options: ExportOptions) -> None:
    """INT8 needs NNCF; checked before any work (``export/openvino_int8.py``)."""
    if options.int8:
        from lsnet.export.openvino_int8 import preflight_openvino_int8

        preflight_openvino_int8(options)


def export_openvino(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` as OpenVINO IR at ``path`` (.xml) and its weights beside it (.bin); return the metadata."""
    from lsnet.export.onnx_exporter import export_onnx

    ov = require("openvino", "openvino", "OpenVINO export")
    onnx_options = copy.copy(options)
    onnx_options.half = False  # FP16 is OpenVINO's weight compression below, not an FP16 ONNX graph
    onnx_options.int8 = False  # INT8 is NNCF's quantization of the IR below, not ONNX Runtime's
    with tempfile.TemporaryDirectory(prefix="lsnet-openvino-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        onnx_meta = export_onnx(model, onnx_options, onnx_path)
        ov_model = ov.convert_model(str(onnx_path))
    int8: dict[str, Any] = {}
    if options.int8:
        from lsnet.export.openvino_int8 import quantize_openvino

        int8 = {"int8": quantize_openvino(ov_model, model, options, path)}
    else:
        ov.save_model(ov_model, str(path), compress_to_fp16=bool(options.half))
    return {
        **int8,
        "openvino": {
            "source": "onnx",
            "files": ["xml (graph)", "bin (weights, same stem)"],
            "weights_storage": "int8" if options.int8 else "fp16" if options.half else "fp32",
            "input_shape": str(ov_model.inputs[0].partial_shape),
        },
        "onnx": {key: onnx_meta[key] for key in ("opset", "exporter", "rewrites", "simplified") if key in onnx_meta},
        "dynamic_batch": options.dynamic_batch,
        "notes": onnx_meta.get("notes", []),
        "versions": {name: package_version(name) for name in ("openvino", "onnx", *(("nncf",) if options.int8 else ()))},
    }
