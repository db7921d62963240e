"""OpenVINO INT8: NNCF post-training quantization (``nncf.quantize``) of the IR converted from our ONNX export,
calibrated on ``--calib`` images (the loader and held-out split of ONNX INT8), gated on agreement with FP32
(``export/int8_gate.py``).

``model_type=TRANSFORMER``, measured on the trained fixture (docs/int8.md, "OpenVINO INT8"): NNCF's default
preset lost 0.7 points of held-out top-1 (0.967 agreement); the transformer scheme (SmoothQuant on the matrix
products, the attention's softmax and scaling kept in float) matched FP32 (0.987 agreement).
"""
import logging
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.deps import require
from lsnet.export.int8_calibration import calibration_data, chunks
from lsnet.export.int8_gate import artifact_logits, check_int8_threshold, judge_int8, torch_logits
from lsnet.export.options import ExportOptions

METHOD = "nncf.quantize (post-training, model_type=TRANSFORMER, default performance preset)"


def preflight_openvino_int8(options: ExportOptions) -> None:
    """``--int8`` needs NNCF (the ``openvino-int8`` extra) and a threshold in 0..1; checked before any work."""
    require("nncf", "openvino-int8", "OpenVINO INT8 export")
    check_int8_threshold(options)


def quantize_openvino(ov_model: Any, model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Quantize the FP32 IR ``ov_model`` and save it at ``path`` (.xml + .bin); refuse (ParityError, nothing
    published) below ``--int8-threshold``; return the sidecar record."""
    nncf = require("nncf", "openvino-int8", "OpenVINO INT8 export")
    ov = require("openvino", "openvino", "OpenVINO export")
    check_int8_threshold(options)
    logging.getLogger("nncf").setLevel(logging.WARNING)  # per-step progress otherwise
    data = calibration_data(options.calib, model.pretrained_cfg)
    batch = None if options.dynamic_batch else options.batch
    items = [part for part, _ in chunks(data.calibration, batch or 1, pad=batch is not None)]
    quantized = nncf.quantize(ov_model, nncf.Dataset(items), subset_size=len(items), model_type=nncf.ModelType.TRANSFORMER)
    ov.save_model(quantized, str(path), compress_to_fp16=False)
    verdict = judge_int8(lambda x: artifact_logits(path, x), lambda x: torch_logits(model, x), data, options,
                         ["FP32 reference: the PyTorch model the IR was exported from (the FP32 IR matches it to 1e-5)"])
    ops = [op.get_type_name() for op in quantized.get_ops()]
    return {
        "method": METHOD,
        "weights": "int8 symmetric, per output channel",
        "activations": "int8 (NNCF FakeQuantize before each quantized op)",
        "io": "float32 input and output",
        "fake_quantize_ops": ops.count("FakeQuantize"),
        "calibration": data.to_dict(),
        **verdict,
    }
