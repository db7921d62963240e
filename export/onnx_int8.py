"""Static INT8 quantization (explicit Q/DQ) of an FP32 ONNX model with ONNX Runtime, gated on FP32 agreement.

The Q/DQ model runs in ONNX Runtime and is what TensorRT (explicit quantization) builds INT8 engines
from. Operators measured to lose accuracy when quantized are kept in float (``FLOAT_GROUPS``;
measurements in docs/int8.md, reproduced by ``bench/int8_sensitivity.py``).
"""
import contextlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from lsnet.deps import require
from lsnet.export.int8_calibration import CalibrationData, calibration_data, chunks
from lsnet.export.int8_gate import check_int8_threshold, judge_int8
from lsnet.export.options import ExportOptions

log = logging.getLogger(__name__)

CALIBRATION_BATCH = 8


@dataclass(frozen=True)
class NodeGroup:
    """A family of graph nodes that can be kept in float, matched by ONNX op type and module scope."""

    description: str
    op_types: frozenset[str]
    scope: str = ""  # regex on the node name (the PyTorch module path the exporter writes)

    def matches(self, node: Any) -> bool:
        return node.op_type in self.op_types and (not self.scope or re.search(self.scope, node.name) is not None)


NODE_GROUPS: dict[str, NodeGroup] = {
    "lkp_norm": NodeGroup("GroupNorm at the end of LKP (the SKA weight path)", frozenset({"InstanceNormalization", "Mul", "Add", "Reshape"}), r"/lkp/norm/"),
    "ska": NodeGroup("SKA: tap extraction, per-pixel weights times shifted inputs, sum", frozenset({"Conv", "Mul", "Add", "ReduceSum"}), r"/ska/"),
    "attention": NodeGroup("attention scores: q@k, scale, bias, softmax, @v", frozenset({"MatMul", "Mul", "Add", "Softmax"}), r"/mixer/m/"),
    "se": NodeGroup("squeeze-excitation sigmoid gate", frozenset({"Sigmoid", "Mul", "Resize"}), r"/se/"),
    "bn": NodeGroup("BatchNorm after SKA (not foldable into a conv)", frozenset({"BatchNormalization"})),
    "head": NodeGroup("classifier head", frozenset({"Gemm", "MatMul"}), r"^/head"),
    "ffn_in": NodeGroup(
        "first 1x1 conv of each FFN: its input is the residual stream, whose outlier channels one per-tensor"
        " INT8 scale cannot hold", frozenset({"Conv"}), r"/ffn/m/pw1/",
    ),
    # further candidates measured by bench/int8_sensitivity.py (not kept in float by default)
    "stem": NodeGroup("patch embedding convs (the raw image input)", frozenset({"Conv"}), r"^/patch_embed/"),
    "downsample": NodeGroup("stride-2 depthwise + pointwise convs between stages", frozenset({"Conv"}), r"^/blocks\d/blocks\d\.[01]/Conv"),
    "mixer_dw": NodeGroup("RepVGG depthwise token mixers", frozenset({"Conv"}), r"/mixer/Conv$"),
    "se_convs": NodeGroup("squeeze-excitation 1x1 convs", frozenset({"Conv"}), r"/se/fc"),
    "lkp_convs": NodeGroup("LKP convs (the SKA weight path)", frozenset({"Conv"}), r"/lkp/cv"),
    "ska_bn_conv": NodeGroup("BatchNorm after SKA, folded into a 1x1 conv by pre-processing", frozenset({"Conv"}), r"/mixer/bn/"),
    "attention_convs": NodeGroup("attention qkv / depthwise / projection convs", frozenset({"Conv"}), r"/mixer/m/(qkv|dw|proj)"),
    "ffn_out": NodeGroup("second 1x1 conv of each FFN", frozenset({"Conv"}), r"/ffn/m/pw2/"),
}
# defaults chosen from the sensitivity measurements in docs/int8.md (bench/int8_sensitivity.py on the trained
# fixture): only convolutions and matrix products are quantized; every elementwise / normalization / softmax /
# sigmoid path stays in float, and so do the FFN input convs (the one group that decides held-out accuracy)
QUANTIZED_OPS: tuple[str, ...] = ("Conv", "Gemm", "MatMul")
FLOAT_GROUPS: tuple[str, ...] = ("lkp_norm", "ska", "attention", "se", "bn", "head", "ffn_in")
CALIBRATION_METHOD = "percentile"


def float_nodes(model_path: Path, groups: Iterable[str]) -> list[str]:
    """Names of the nodes of ``model_path`` that belong to any of ``groups``."""
    import onnx

    chosen = [NODE_GROUPS[g] for g in groups]
    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [n.name for n in graph.node if any(g.matches(n) for g in chosen)]


def array_reader(inputs: np.ndarray, input_name: str, batch: int | None) -> Any:
    """A CalibrationDataReader feeding ``inputs`` in batches (the fixed batch of the model when it has one)."""
    from onnxruntime.quantization import CalibrationDataReader

    class ArrayReader(CalibrationDataReader):
        def __init__(self) -> None:
            self.chunks = iter(chunks(inputs, batch or CALIBRATION_BATCH, pad=batch is not None))

        def get_next(self) -> dict[str, np.ndarray] | None:
            chunk = next(self.chunks, None)
            return None if chunk is None else {input_name: chunk[0]}

    return ArrayReader()


def run_session(path: Path, inputs: np.ndarray, batch: int | None) -> np.ndarray:
    """Logits of ``path`` on ``inputs`` with ONNX Runtime on CPU, in the model's batch size."""
    ort = require("onnxruntime", "onnx", "INT8 export")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outs = [session.run(None, {name: part})[0][:valid] for part, valid in chunks(inputs, batch or CALIBRATION_BATCH, batch is not None)]
    return np.concatenate(outs).astype(np.float32)


def input_name(model_path: Path) -> str:
    """The name of the model's (single) image input."""
    import onnx

    return onnx.load(str(model_path), load_external_data=False).graph.input[0].name


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run a block in ``path`` (ORT's symbolic shape inference dumps debug files into the working directory)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def pre_process(fp32_path: Path, out_path: Path) -> list[str]:
    """ORT's quantization pre-processing (symbolic shape inference + graph optimization); notes on fallbacks."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32_path, out_path = Path(fp32_path).resolve(), Path(out_path).resolve()
    with tempfile.TemporaryDirectory() as scratch, working_directory(Path(scratch)):
        try:
            quant_pre_process(str(fp32_path), str(out_path))
            return []
        except Exception as exc:  # symbolic shape inference is incomplete on some graphs; ONNX shape inference still runs
            quant_pre_process(str(fp32_path), str(out_path), skip_symbolic_shape=True)
            return [f"symbolic shape inference skipped in quant pre-processing ({str(exc)[:80]})"]


def quantize_qdq(model_path: Path, out_path: Path, calibration: np.ndarray, batch: int | None,
                 keep_float: Iterable[str] = FLOAT_GROUPS, method: str = CALIBRATION_METHOD,
                 op_types: Iterable[str] | None = QUANTIZED_OPS, calibration_cache: Path | None = None) -> tuple[list[str], str]:
    """Static Q/DQ quantization: per-channel symmetric INT8 weights, symmetric INT8 activations (TensorRT-ready).

    Returns the nodes kept in float and the calibration method used: percentile falls back to min-max
    when a tensor's range is too narrow for its histogram (ORT raises ValueError then).
    ``calibration_cache`` (ONNX Runtime >= 1.32) stores the tensor ranges and reuses them when present.
    """
    q = require("onnxruntime.quantization", "onnx", "INT8 export")
    methods = {"minmax": q.CalibrationMethod.MinMax, "percentile": q.CalibrationMethod.Percentile, "entropy": q.CalibrationMethod.Entropy}
    excluded = float_nodes(model_path, keep_float)

    cache = {"calibration_cache_path": str(calibration_cache)} if calibration_cache else {}

    def run(chosen: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()) as chatter:  # ORT prints calibration progress to stdout
            q.quantize_static(
                str(model_path),
                str(out_path),
                array_reader(calibration, input_name(model_path), batch),
                quant_format=q.QuantFormat.QDQ,
                per_channel=True,
                activation_type=q.QuantType.QInt8,
                weight_type=q.QuantType.QInt8,
                nodes_to_exclude=excluded,
                op_types_to_quantize=list(op_types) if op_types else None,
                calibrate_method=methods[chosen],
                extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
                **cache,
            )
        log.debug("%s", chatter.getvalue())

    try:
        run(method)
    except ValueError:
        if method == "minmax":
            raise
        log.warning("%s calibration failed on a tensor with a degenerate range; using min-max calibration", method)
        method = "minmax"
        run(method)
    return excluded, method


def quantization_summary(method: str, excluded: list[str], data: CalibrationData,
                         keep_float: Iterable[str] = FLOAT_GROUPS) -> dict[str, Any]:
    """How a model was quantized, for its sidecar: method, precisions, float groups, calibration."""
    return {
        "method": f"onnxruntime.quantization.quantize_static (QDQ, {method} calibration)",
        "quantized_op_types": list(QUANTIZED_OPS),
        "weights": "int8 symmetric, per output channel",
        "activations": "int8 symmetric, per tensor",
        "kept_float": {g: NODE_GROUPS[g].description for g in keep_float},
        "float_nodes": len(excluded),
        "calibration": data.to_dict(),
        "tensorrt": "explicit quantization: this Q/DQ ONNX is the input TensorRT needs for an INT8 engine (no calibrator)",
    }


def quantize_onnx(fp32_onnx_path: Path, out_path: Path, model: nn.Module, options: ExportOptions,
                  keep_float: Iterable[str] = FLOAT_GROUPS) -> dict[str, Any]:
    """Quantize ``fp32_onnx_path`` to ``out_path`` (Q/DQ INT8); refuse with ParityError below ``options.int8_threshold``."""
    require("onnxruntime", "onnx", "INT8 export")
    check_int8_threshold(options)
    keep_float = tuple(keep_float)
    batch = None if options.dynamic_batch else options.batch
    data = calibration_data(options.calib, model.pretrained_cfg)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        notes = pre_process(fp32_onnx_path, prepared)
        excluded, method = quantize_qdq(prepared, out_path, data.calibration, batch, keep_float)
        verdict = judge_int8(lambda x: run_session(out_path, x, batch), lambda x: run_session(prepared, x, batch), data, options, notes)
    return {**quantization_summary(method, excluded, data, keep_float), **verdict}

