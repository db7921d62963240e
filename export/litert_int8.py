"""Integer LiteRT: PT2E static quantization with litert-torch's ``PT2EQuantizer``, calibrated on ``--calib``
images (the same loader and held-out split as ONNX INT8), converted so that convolutions, matrix products and the
classifier run on int8 tensors, then gated on agreement with FP32 (``export/int8_gate.py``).

Choices, measured on the trained fixture (docs/int8.md, "LiteRT INT8"):
- every op the quantizer annotates is quantized (int8 per-channel symmetric weights, int8 per-tensor
  activations from histogram observers): the FFN-input convs that ONNX Runtime keeps in float do not need it here
  (held-out top-1 within the FP32 figure without it); what the converter cannot run in int8 (GroupNorm
  statistics, softmax, residual adds) stays float between quantize/dequantize ops;
- the converter's STATIC Q/DQ mode makes the model's input and output int8 tensors (scale and zero point in
  the flatbuffer and the sidecar): ``LiteRTRunner`` quantizes float images and dequantizes logits, so lsnet's
  predict/eval/serve take float images as for every other format;
- calibration runs batches of ``CALIBRATION_BATCH`` through a dynamic-batch export (histogram observers cost
  per call), the converted model has the fixed batch of the export.
"""
import collections
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsnet.deps import require
from lsnet.export.int8_calibration import CalibrationData, calibration_data
from lsnet.export.int8_gate import artifact_logits, check_int8_threshold, judge_int8, torch_logits
from lsnet.export.onnx_int8 import chunks
from lsnet.export.options import ExportOptions

log = logging.getLogger(__name__)

CALIBRATION_BATCH = 16
QUANTIZER = "litert_torch PT2EQuantizer (static, per-channel symmetric weights, histogram-observed activations)"


def quantized_program(model: nn.Module, data: CalibrationData) -> tuple[Any, Any]:
    """(the PT2E-quantized graph module calibrated on ``data.calibration``, the quantizer that annotated it)."""
    pt2e = require("torchao.quantization.pt2e", "litert", "LiteRT INT8 export")
    from torchao.quantization.pt2e import quantize_pt2e
    from litert_torch.quantize import pt2e_quantizer

    size = tuple(data.calibration.shape[1:])
    batch = torch.export.Dim("batch", min=1, max=CALIBRATION_BATCH)
    with torch.no_grad():
        graph = torch.export.export(model.eval(), (torch.zeros(2, *size),), dynamic_shapes=({0: batch},)).module()
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    prepared = quantize_pt2e.prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for part, _ in chunks(data.calibration, CALIBRATION_BATCH, pad=False):
            prepared(torch.from_numpy(part))
    program = pt2e.move_exported_model_to_eval(quantize_pt2e.convert_pt2e(prepared, fold_quantize=False))
    program.training = False  # the ops are in eval form already; exported modules refuse .eval(), litert-torch warns on the flag
    return program, quantizer


def write_int8_tflite(model: nn.Module, options: ExportOptions, path: Path, data: CalibrationData, example: torch.Tensor) -> None:
    """Quantize ``model`` on ``data`` and write the integer ``.tflite`` at ``path`` (fixed batch of ``example``)."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    from lsnet.export.litert_exporter import LiteRTConversionError

    program, quantizer = quantized_program(model, data)
    try:
        with torch.no_grad():
            edge_model = litert_torch.convert(program, (example,), quant_config=QuantConfig(pt2e_quantizer=quantizer))
    except Exception as exc:  # litert-torch raises torch.export, JAX and MLIR errors alike
        raise LiteRTConversionError(
            f"litert-torch cannot convert the INT8 model ({type(exc).__name__}: {' '.join(str(exc).split())[:160]});"
            " export with the default --ska conv_im2col, or without --int8."
        ) from exc
    edge_model.export(str(path))


def compute_summary(path: Path) -> dict[str, Any]:
    """How the ops of a ``.tflite`` compute: counts by op on int8 and on float inputs, and the I/O tensors."""
    interpreter_module = require("ai_edge_litert.interpreter", "litert", "LiteRT INT8 export")
    interpreter = interpreter_module.Interpreter(model_path=str(path))
    by_type: dict[str, collections.Counter] = {"int8": collections.Counter(), "float32": collections.Counter()}
    for op in interpreter._get_ops_details():  # noqa: SLF001 -- the interpreter's only op listing
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE") or not len(op["inputs"]):
            continue
        dtype = np.dtype(interpreter._get_tensor_details(int(op["inputs"][0]), 0)["dtype"]).name  # noqa: SLF001
        by_type.setdefault(dtype, collections.Counter())[op["op_name"]] += 1

    def io(detail: dict[str, Any]) -> dict[str, Any]:
        scale, zero_point = detail["quantization"]
        return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}

    return {
        "ops_on_int8": dict(sorted(by_type.pop("int8").items())),
        "ops_on_float": {op: n for counter in by_type.values() for op, n in sorted(counter.items())},
        "input": io(interpreter.get_input_details()[0]),
        "output": io(interpreter.get_output_details()[0]),
    }


def export_litert_int8(model: nn.Module, options: ExportOptions, path: Path, example: torch.Tensor) -> dict[str, Any]:
    """Write the integer LiteRT model at ``path``; refuse (ParityError, nothing published) below ``--int8-threshold``."""
    check_int8_threshold(options)
    data = calibration_data(options.calib, model.pretrained_cfg)
    write_int8_tflite(model, options, path, data, example)
    verdict = judge_int8(lambda x: artifact_logits(path, x), lambda x: torch_logits(model, x), data, options,
                         ["FP32 reference: the PyTorch model the .tflite was converted from (LiteRT FP32 matches it to 1e-5)"])
    return {
        "method": QUANTIZER,
        "weights": "int8 symmetric, per output channel",
        "activations": "int8 per tensor (affine)",
        "io": "int8 input and output tensors (scale/zero point below); lsnet's LiteRT runner quantizes float images"
              " and dequantizes logits; on a device feed round(x / scale) + zero_point",
        **compute_summary(path),
        "calibration": data.to_dict(),
        **verdict,
    }
