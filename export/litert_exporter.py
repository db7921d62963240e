"""LiteRT (TensorFlow Lite) export hook: ``litert-torch`` converts the PyTorch model to ``.tflite``; no TensorFlow.

SKA formulation: ``conv_im2col`` (the format's default). It converts directly and the whole graph becomes one
XNNPACK delegate node, so the LiteRT CPU runtime runs every op in XNNPACK. ``shift`` does not convert with
litert-torch 0.10 (its NHWC layout pass treats ``aten.repeat`` as layout-neutral and fails to broadcast), and the
gather-based formulations leave ops outside the delegate.

Batch: fixed (batch 1 by default, ``--batch N`` for another). litert-torch lowers GroupNorm with a symbolic batch
to shapes JAX cannot trace, so no dynamic batch. FP16 (``--half``): the FP32 model's weights cast to FP16 with
ai-edge-quantizer's float-casting (weight-only: XNNPACK dequantizes them once at load and computes in FP32;
GPU delegates compute in FP16). INT8 (``--int8 --calib DIR``): PT2E static quantization with integer
convolutions and matrix products, gated on FP32 agreement like ONNX INT8 (``export/litert_int8.py``).
"""
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lsnet.deps import require
from lsnet.errors import LsnetError
from lsnet.export.metadata import package_version
from lsnet.export.onnx_exporter import model_img_size
from lsnet.export.options import ExportOptions
from lsnet.runtimes.native_output import chatter_to_debug


class LiteRTConversionError(LsnetError):
    """litert-torch could not convert the model."""


def preflight_litert(options: ExportOptions) -> None:
    """INT8 needs torchao's PT2E flow (a litert-torch dependency) and a threshold in 0..1; checked before any work."""
    from lsnet.export.int8_gate import check_int8_threshold

    if options.int8:
        require("torchao.quantization.pt2e", "litert", "LiteRT INT8 export")
        check_int8_threshold(options)


def export_litert(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` (reparameterized, SKA chosen) as a ``.tflite`` flatbuffer at ``path``; return the metadata."""
    with chatter_to_debug("litert-torch"):  # its imports print JAX, absl and torchao notices
        require("litert_torch", "litert", "LiteRT export")
    example = torch.randn(options.batch or 1, 3, *model_img_size(model))
    meta: dict[str, Any] = {"dynamic_batch": False, "batch": options.batch or 1, "layout": "NCHW"}
    versions = {name: package_version(name) for name in ("litert-torch", "ai-edge-litert", "ai-edge-quantizer")}
    if options.int8:
        from lsnet.export.litert_int8 import export_litert_int8

        int8 = export_litert_int8(model, options, path, example, convert)
        return {**meta, "int8": int8, "versions": {**versions, "torchao": package_version("torchao")}}
    edge_model = convert(model.eval(), example, f"{options.ska} SKA")
    if options.half:
        with tempfile.TemporaryDirectory(prefix="lsnet-litert-") as tmp:
            fp32 = Path(tmp) / "fp32.tflite"
            with chatter_to_debug("litert-torch"):
                edge_model.export(str(fp32))
            meta["fp16"] = cast_weights_fp16(fp32, path)
    else:
        with chatter_to_debug("litert-torch"):
            edge_model.export(str(path))
    meta["versions"] = versions
    return meta


def convert(module: nn.Module, example: torch.Tensor, what: str, **kwargs: Any) -> Any:
    """``litert_torch.convert(module, (example,), **kwargs)``; any failure is one LiteRTConversionError naming ``what``."""
    litert_torch = require("litert_torch", "litert", "LiteRT export")
    try:
        with torch.no_grad(), chatter_to_debug("litert-torch"):
            return litert_torch.convert(module, (example,), **kwargs)
    except Exception as exc:  # litert-torch raises torch.export, JAX and MLIR errors alike
        raise LiteRTConversionError(
            f"litert-torch cannot convert {what} ({type(exc).__name__}: {' '.join(str(exc).split())[:160]});"
            " export with the default --ska conv_im2col."
        ) from exc


def cast_weights_fp16(source: Path, target: Path) -> dict[str, Any]:
    """Write ``source`` with every weight tensor cast to FP16 (ai-edge-quantizer float casting) at ``target``."""
    quantizer = require("ai_edge_quantizer.quantizer", "litert", "FP16 LiteRT export")
    from ai_edge_quantizer import algorithm_manager, qtyping

    qt = quantizer.Quantizer(str(source))
    qt.add_weight_only_config(
        regex=".*", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED, num_bits=16,
        granularity=qtyping.QuantGranularity.TENSORWISE, algorithm_key=algorithm_manager.AlgorithmName.FLOAT_CASTING,
    )
    result = qt.quantize(enable_progress_bar=False, enable_progress_report=False)
    target.write_bytes(bytes(result.quantized_model))
    return {"method": "ai-edge-quantizer float_casting, weight-only", "weights": "fp16", "compute": "runtime's (FP32 on XNNPACK CPU)"}
