"""ONNX export hook: trace the reparameterized model, optionally FP16 / simplify / INT8, check the graph.

Exporter choice: the legacy TorchScript exporter (``dynamo=False``). It traces the eval graph once
and marks the batch axis symbolic through ``dynamic_axes``, which the runtime honours at any batch;
its output is deterministic and needs no onnxscript. The dynamo exporter can silently specialize
the batch dimension when the model reads shapes (LSNet's attention does), and produced larger,
slower graphs for this model. PyTorch warns that the legacy exporter will be removed; the warning
is recorded here, and every export is validated at an odd batch (3) so a specialized batch is caught.
"""
import copy
import errno
import json
import warnings
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from lsnet.deps import require
from lsnet.errors import LsnetError, MissingDependencyError, UnknownOptionError
from lsnet.export.api import INPUT_NAME, OUTPUT_NAME
from lsnet.export.artifact import remove_tree, temp_beside
from lsnet.export.metadata import package_version
from lsnet.export.options import ExportOptions

MIN_OPSET = 17
BASELINE_SKA = "unfold"
EXPORTER = "torch.onnx (legacy TorchScript tracer, dynamo=False)"


def preflight_onnx(options: ExportOptions) -> None:
    """Everything an ONNX export needs, checked before any model is built: packages, opset, rewrite names."""
    from lsnet.export.onnx_rewrites import parse_rewrites

    require("onnx", "onnx", "ONNX export")
    if options.validate:
        require("onnxruntime", "onnx", "checking ONNX parity")
    if options.opset < MIN_OPSET:
        raise UnknownOptionError(f"--opset {options.opset} is too old: use {MIN_OPSET} or newer (default 18).")
    if options.int8:
        int8_quantizer()
    parse_rewrites(options.rewrites)  # a bad name fails before tracing, with --baseline too


def export_onnx(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` (reparameterized, SKA chosen) as ONNX at ``path``; return the format metadata."""
    from lsnet.export.onnx_checks import graph_summary, mobile_usability
    from lsnet.export.onnx_rewrites import rewrite_for_ort

    preflight_onnx(options)  # also when another format (TensorRT, Triton, Core ML checks) exports ONNX
    quantize = int8_quantizer() if options.int8 else None
    meta: dict[str, Any] = {"opset": options.opset, "exporter": EXPORTER, "baseline": options.baseline, "notes": []}
    simplify = options.simplify and not options.baseline
    if options.baseline:
        from lsnet.factory import set_ska

        model = set_ska(copy.deepcopy(model), BASELINE_SKA)
        meta["ska"] = BASELINE_SKA
        meta["notes"].append("baseline: unfold SKA, legacy exporter, no simplification (performance reference)")
        if options.rewrites != "all":
            meta["notes"].append("--rewrites ignored: the baseline export has no layout rewrites")
    else:
        model, meta["rewrites"] = rewrite_for_ort(model, options.rewrites)
    if options.half:
        from lsnet.export.onnx_half import half_model

        model, meta["fp16"] = half_model(model)
    meta["dynamic_batch"] = options.dynamic_batch
    meta["batch"] = None if options.dynamic_batch else options.batch
    if quantize is not None:
        fp32_path = temp_beside(Path(path).with_name("fp32.onnx"))  # beside the artifact: a killed run's leftover gets cleaned
        try:
            _write_graph(model, options, fp32_path, simplify, meta)
            meta["int8"] = quantize(fp32_path, path, model, options)
        finally:
            remove_tree(fp32_path)
    else:
        _write_graph(model, options, path, simplify, meta)
    meta["graph"] = graph_summary(path, enforce_rank=not options.baseline)  # baseline: recorded only
    meta["mobile_usability"] = mobile_usability(path)
    meta["versions"] = {name: package_version(name) for name in ("onnx", "onnxruntime", "onnxslim")}
    return meta


def _write_graph(model: nn.Module, options: ExportOptions, path: Path, simplify: bool, meta: dict[str, Any]) -> None:
    """Trace to ONNX, simplify with onnxslim when asked and available, annotate shapes (not for the baseline)."""
    trace_onnx(model, options, path)
    meta["simplified"] = False
    if simplify:
        meta["simplified"] = simplify_onnx(path, meta["notes"])
    meta["shapes_annotated"] = False
    if not options.baseline:
        from lsnet.export.onnx_rewrites import annotate_shapes

        meta["shapes_annotated"] = annotate_shapes(path, meta["notes"])


def trace_onnx(model: nn.Module, options: ExportOptions, path: Path) -> None:
    """Run the legacy exporter with named I/O and a symbolic batch axis (or the fixed ``options.batch``)."""
    height, width = model_img_size(model)
    batch = options.batch if not options.dynamic_batch and options.batch else 2
    example = torch.randn(batch, 3, height, width)
    dynamic = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if options.dynamic_batch else None
    with warnings.catch_warnings():
        # the deprecation notice of the legacy exporter and tracer notes on shape checks that are
        # constant for a fixed input size; parity at several batches is what proves the graph
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*will be removed.*")
        warnings.filterwarnings("ignore", message=".*Constant folding.*")
        with torch.no_grad():
            torch.onnx.export(
                model.eval(), (example,), str(path), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_axes=dynamic, opset_version=options.opset, do_constant_folding=True, dynamo=False,
            )


def model_img_size(model: nn.Module) -> tuple[int, int]:
    """(H, W) the model was built for (FP16 wrappers included; an int, as timm models store it, is square)."""
    inner = getattr(model, "model", model)
    size = getattr(inner, "img_size", getattr(model, "img_size", (224, 224)))
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def simplify_onnx(path: Path, notes: list[str]) -> bool:
    """Simplify the graph in place with onnxslim; without onnxslim keep it as is and say so."""
    try:
        import onnxslim
    except ImportError:
        notes.append("onnxslim is not installed: graph not simplified (pip install \"lsnet[onnx]\")")
        return False
    import onnx

    from lsnet.export.progress import stage

    with stage("simplify", "onnxslim"):
        slim = onnxslim.slim(str(path))
        onnx.save(slim, str(path))
    return True


def int8_quantizer() -> Callable[..., dict[str, Any]]:
    """``lsnet.export.onnx_int8.quantize_onnx(fp32_path, out_path, model, options) -> dict``, imported lazily."""
    try:
        from lsnet.export.onnx_int8 import quantize_onnx
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.startswith("lsnet"):
            raise MissingDependencyError("INT8 ONNX export is not available in this build of lsnet; export without --int8.") from exc
        raise
    return quantize_onnx


def flatten_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """Top-level keys as strings; nested values as JSON."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=False)
        for key, value in metadata.items()
    }


def embed_onnx_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata`` (flattened) into the model's ``metadata_props``, replacing earlier entries."""
    onnx = require("onnx", "onnx", "ONNX export")
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in flatten_metadata(metadata).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = f"{metadata.get('variant', 'LSNet')} exported by lsnet {metadata.get('versions', {}).get('lsnet') or ''}".strip()
    try:
        onnx.save(model, str(path))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise  # staged() names the final path and the fix
        raise LsnetError(f"cannot write ONNX metadata into {path}: {exc.strerror}.") from exc
