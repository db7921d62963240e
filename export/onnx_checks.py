"""Structural checks of an exported ONNX graph: checker, operator domains, tensor ranks, mobile usability."""
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from lsnet.deps import require
from lsnet.errors import LsnetError
from lsnet.export.artifact import remove_tree, temp_beside

MAX_RANK = 5  # Core ML and most mobile delegates refuse tensors of higher rank


class GraphCheckError(LsnetError):
    """An exported graph that breaks a structural rule (custom domain, rank > 5, invalid model)."""


def graph_summary(path: Path, enforce_rank: bool = True) -> dict[str, Any]:
    """Run ``onnx.checker`` (full check) and shape inference; return op counts, domains and the max rank.

    Raises GraphCheckError when the graph uses a non-default domain, or (with ``enforce_rank``) a
    tensor of rank > MAX_RANK.
    """
    onnx = require("onnx", "onnx", "ONNX export")
    model = onnx.load(str(path))
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise GraphCheckError(f"the exported ONNX graph is invalid ({str(exc).splitlines()[0]}); report this as a bug.") from exc
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    graph = inferred.graph
    domains = sorted({n.domain or "ai.onnx" for n in graph.node})
    if domains != ["ai.onnx"]:
        raise GraphCheckError(f"the exported graph uses operator domains {domains}; only the default ONNX domain is allowed.")
    ranks = {
        v.name: len(v.type.tensor_type.shape.dim)
        for v in (*graph.value_info, *graph.input, *graph.output)
        if v.type.tensor_type.HasField("shape")
    }
    too_high = sorted(name for name, rank in ranks.items() if rank > MAX_RANK)
    if too_high and enforce_rank:
        raise GraphCheckError(f"the exported graph has tensors of rank > {MAX_RANK} ({too_high[0]} ...); use another --ska formulation.")
    ops = Counter(n.op_type for n in graph.node)
    return {
        "ops": dict(sorted(ops.items())),
        "node_count": sum(ops.values()),
        "domains": domains,
        "max_rank": max(ranks.values(), default=0),
    }


def mobile_usability(path: Path) -> dict[str, Any]:
    """ONNX Runtime's mobile usability verdict (its ``check_onnx_model_mobile_usability`` tool) per EP.

    Each execution provider gets YES / MAYBE / NO as the tool prints it; ``unsupported_ops`` lists what
    keeps nodes off that EP.
    """
    require("onnxruntime", "onnx", "the mobile usability check")
    from onnxruntime.tools.mobile_helpers import usability_checker as uc
    from onnxruntime.tools.onnx_model_utils import ModelProtoWithShapeInfo, optimize_model

    checks = {
        "nnapi": lambda m, fixed: uc.check_nnapi_partitions(m, fixed),
        "coreml_neuralnetwork": lambda m, fixed: uc.check_coreml_partitions(m, fixed, "coreml_supported_neuralnetwork_ops.md"),
        "coreml_mlprogram": lambda m, fixed: uc.check_coreml_partitions(m, fixed, "coreml_supported_mlprogram_ops.md"),
    }
    quiet = logging.getLogger("lsnet.mobile_usability")
    quiet.setLevel(logging.ERROR)
    result: dict[str, Any] = {"tool": "onnxruntime.tools.check_onnx_model_mobile_usability", "execution_providers": {}}
    optimized = temp_beside(Path(path).with_name("basic.onnx"))  # beside the model: a killed run's leftover gets cleaned
    try:
        optimize_model(Path(path), optimized)  # the tool checks the BASIC-optimized graph, as here
        model = ModelProtoWithShapeInfo(optimized).model_with_shape_info
    finally:
        remove_tree(optimized)
    dynamic_inputs, _ = uc.check_shapes(model.graph, quiet)
    for name, check in checks.items():
        info = check(model, True)
        verdict = info.suitability()
        fixed_verdict = check(model, False).suitability() if dynamic_inputs else verdict
        result["execution_providers"][name] = {
            "verdict": verdict.name,
            "verdict_with_fixed_shapes": fixed_verdict.name,
            "supported_nodes": f"{info.num_supported_nodes}/{info.num_nodes}",
            "partitions": info.num_partitions,
            "unsupported_ops": sorted(info.unsupported_ops),
        }
    verdicts = [ep["verdict_with_fixed_shapes"] for ep in result["execution_providers"].values()]
    result["try_mobile_eps"] = any(v != "NO" for v in verdicts)
    result["verdict"] = (
        "an NNAPI/Core ML execution provider may help; compare it with the CPU EP"
        if result["try_mobile_eps"] else "use the CPU execution provider on mobile"
    )
    return result
