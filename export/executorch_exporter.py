"""ExecuTorch export hook: ``torch.export`` -> XNNPACK partitioner -> ``.pte`` program; reports how much is delegated.

Before ``torch.export`` the model goes through ``executorch_rewrites.rewrite_for_executorch`` (equal modules built
from ops XNNPACK has: GroupNorm, the SKA tap sum + BatchNorm, the attention bias), and the edge program through
``executorch_rewrites.transform_passes`` (split, mean, no-op expand), so that XNNPACK takes the whole graph; the
sidecar's ``delegation`` says how much it took and what was left on ExecuTorch's portable kernels, ``rewrites``
what was rewritten. SKA formulation: ``conv_im2col`` (the format's default; why in executorch_rewrites.py).

Batch: fixed (batch 1 by default, ``--batch N`` for another). With a symbolic batch the XNNPACK delegate's
tensors stay static in ExecuTorch 1.5 and a second batch size fails at run time ("Attempted to resize a static
tensor"). FP32 only.
"""
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


class ExecuTorchConversionError(LsnetError):
    """torch.export or the ExecuTorch lowering could not convert the model."""


def export_executorch(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` (reparameterized, SKA chosen) as an XNNPACK-delegated ``.pte`` at ``path``; return the metadata."""
    with chatter_to_debug("executorch"):  # its imports print torchao and pytree notices
        require("executorch.exir", "executorch", "ExecuTorch export")
    from lsnet.export.executorch_rewrites import rewrite_for_executorch

    example = torch.randn(options.batch or 1, 3, *model_img_size(model))
    rewritten, rewrites = rewrite_for_executorch(model)
    try:
        with chatter_to_debug("executorch"):
            lowered = lower_to_xnnpack(rewritten, example)
            delegation = delegation_summary(lowered)
            buffer = lowered.to_executorch().buffer
    except Exception as exc:  # torch.export and the lowering raise many kinds of errors
        raise ExecuTorchConversionError(
            f"ExecuTorch cannot convert {options.ska} SKA ({type(exc).__name__}: {' '.join(str(exc).split())[:160]});"
            " export with the default --ska conv_im2col."
        ) from exc
    path.write_bytes(buffer)
    return {
        "dynamic_batch": False,
        "batch": options.batch or 1,
        "backend": "XNNPACK",
        "delegation": delegation,
        "rewrites": rewrites,
        "versions": {"executorch": package_version("executorch")},
    }


def lower_to_xnnpack(model: nn.Module, example: torch.Tensor) -> Any:
    """``torch.export`` at ``example``'s shape, the XNNPACK transform passes and partitioner: the edge program manager."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from lsnet.export.executorch_rewrites import transform_passes

    with torch.no_grad():
        program = torch.export.export(model.eval(), (example,))
        return to_edge_transform_and_lower(program, transform_passes=transform_passes(), partitioner=[XnnpackPartitioner()])


def delegation_summary(lowered: Any) -> dict[str, Any]:
    """Delegated vs portable-kernel node counts of the lowered graph, and the op types left on portable kernels."""
    from executorch.devtools.backend_debug import get_delegation_info

    info = get_delegation_info(lowered.exported_program().graph_module)
    table = info.get_operator_delegation_dataframe()
    ops = table[table["op_type"] != "Total"]
    fallback = {
        str(row.op_type): int(row.occurrences_in_non_delegated_graphs)
        for row in ops.itertuples() if row.occurrences_in_non_delegated_graphs and row.op_type not in ("getitem", "sym_size")
    }
    delegated, portable = int(info.num_delegated_nodes), int(info.num_non_delegated_nodes)
    return {
        "delegated_nodes": delegated,
        "portable_nodes": portable,
        "delegated_fraction": round(delegated / max(delegated + portable, 1), 3),
        "partitions": int(info.num_delegated_subgraphs),
        "portable_ops": dict(sorted(fallback.items(), key=lambda kv: -kv[1])),
    }
