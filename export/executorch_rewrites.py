"""Export-time rewrites that let ExecuTorch's XNNPACK partitioner delegate the whole LSNet graph.

XNNPACK has no kernel for GroupNorm, tensor indexing, ``split_with_sizes_copy``, ``sum`` or a
``mean`` without ``keepdim``, and it takes a convolution only when its weight is a stored constant.
Each of these left a hole in the delegated graph (lsnet_t: 74% of the nodes delegated, 27 partitions,
the rest on ExecuTorch's portable kernels). The module rewrites below swap the LSNet modules for
equal ones built from ops XNNPACK has; the graph passes do the same for any model (peers included).
All are mathematically identical to the original (tests/test_executorch.py compares outputs; the
export's parity gate checks the program as always):

- ``LKP.norm`` (GroupNorm) -> :class:`GroupNorm4D` (rank-4 reshape, ``mean`` over (2, 3), rsqrt).
- ``LSConv`` -> :class:`XnnpackLSConv`: SKA as a convolution with stored one-hot kernels (the
  ``conv_im2col`` gather), the per-pixel weighting as one broadcast multiply, and the sum over
  the taps *together with the BatchNorm after SKA* as one grouped 1x1 convolution whose weights
  are that BatchNorm's scales (reparameterize cannot fold that BN: SKA's weights come from the input).
- ``Attention`` -> :class:`ConstantBiasAttention`: the relative-position bias gathered once at the
  export resolution and stored as a constant.
- graph passes: ExecuTorch's own no-op ``expand_copy`` removal (batched matmul leaves them),
  ``split_with_sizes_copy`` -> ``slice_copy`` per output, rank-4 ``mean`` without keepdim -> with
  keepdim + ``view_copy``.

SKA formulation: this is ``conv_im2col`` (the format's default, as for ONNX, OpenVINO and LiteRT), the
fastest form that XNNPACK delegates completely: 1 depthwise conv, 1 multiply and 1 grouped conv per SKA
(409 nodes for lsnet_t). ``shift`` as registered keeps its strided weight slices and ``repeat`` on portable
kernels (6 partitions); written fully delegable (stride-1 rank-5 slices and a broadcast multiply, 714 nodes)
it measured no faster (bench/results/executorch_rewrites_cpu_vm_20261201.json), so it is not kept. ``unfold``
needs ``im2col``, which XNNPACK lacks. Other formulations chosen with ``--ska`` are exported as they are.
"""
import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lsnet.attention import Attention
from lsnet.export.coreml_graph import GroupNorm4D
from lsnet.fusion import bn_scale_shift
from lsnet.layers import LKP, LSConv
from lsnet.ska.conv_im2col import one_hot_kernels


class XnnpackLSConv(nn.Module):
    """``LSConv`` (eval) with SKA as conv(one-hot constants) -> broadcast multiply -> grouped 1x1 conv (tap sum + BN)."""

    def __init__(self, ls: LSConv) -> None:
        super().__init__()
        self.lkp = ls.lkp
        self.kernel_size = ls.ska.kernel_size
        taps = self.kernel_size * self.kernel_size
        channels = ls.bn.num_features
        self.register_buffer("one_hot", torch.from_numpy(one_hot_kernels(channels, self.kernel_size)).clone())
        scale, shift = bn_scale_shift(ls.bn)
        self.tap_sum = nn.Conv2d(channels * taps, channels, 1, groups=channels)
        with torch.no_grad():
            self.tap_sum.weight.copy_(scale.view(channels, 1, 1, 1).expand(channels, taps, 1, 1))
            self.tap_sum.bias.copy_(shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w_flat = self.lkp(x)
        n, c, h, width = x.shape
        taps = self.kernel_size * self.kernel_size
        groups = w_flat.shape[1] // taps
        cols = F.conv2d(x, self.one_hot, padding=(self.kernel_size - 1) // 2, groups=c)  # channel c*K*K + t
        weighted = cols.reshape(n, c // groups, groups, taps, h * width) * w_flat.reshape(n, 1, groups, taps, h * width)
        return self.tap_sum(weighted.reshape(n, c * taps, h, width)) + x


class ConstantBiasAttention(Attention):
    """``Attention`` whose position bias at its built resolution is a stored constant instead of a gather."""

    stored_bias: torch.Tensor

    @classmethod
    def from_attention(cls, attention: Attention) -> "ConstantBiasAttention":
        """The same module (parameters shared) with ``stored_bias`` = the bias of its built resolution."""
        with torch.no_grad():
            bias = attention.position_bias(*attention.resolution).detach().clone()
        attention.__class__ = cls  # same state, one method changed; only ever applied to a private copy
        attention.register_buffer("stored_bias", bias, persistent=False)
        return attention

    def position_bias(self, height: int, width: int) -> torch.Tensor:
        if (height, width) == self.resolution:
            return self.stored_bias
        return super().position_bias(height, width)


def _replacement(module: nn.Module) -> tuple[str, nn.Module] | None:
    """(description, equal XNNPACK-friendly module) for a module this file rewrites, else None (applied to a copy)."""
    if isinstance(module, LSConv) and module.ska.impl == "conv_im2col" and not module.training:
        return "LS conv x{}: SKA one-hot kernels stored, tap sum + BatchNorm as one grouped 1x1 conv", XnnpackLSConv(module)
    if type(module) is Attention:
        return "attention x{}: relative-position bias stored at the export resolution", ConstantBiasAttention.from_attention(module)
    if isinstance(module, LKP) and isinstance(module.norm, nn.GroupNorm):  # LKP's 4-D input; GroupNorm4D needs one
        module.norm = GroupNorm4D(module.norm)
        return "GroupNorm x{}: rank-4 mean / rsqrt form", module
    return None


def _swap(module: nn.Module, counts: dict[str, int]) -> None:
    for name, child in list(module.named_children()):
        found = _replacement(child)
        if found:
            description, child = found
            setattr(module, name, child)
            counts[description] = counts.get(description, 0) + 1
        _swap(child, counts)


def rewrite_for_executorch(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """A rewritten copy of ``model`` (eval mode; the input is untouched) and what was rewritten."""
    model = copy.deepcopy(model).eval()
    counts: dict[str, int] = {}
    _swap(model, counts)
    return model, [description.format(count) for description, count in counts.items()]


def transform_passes() -> list[Any]:
    """Edge-dialect passes run before partitioning, for any model: each replaces ops XNNPACK lacks by equal ones it has."""
    import operator
    from itertools import accumulate

    from executorch.backends.xnnpack.utils.configs import get_transform_passes
    from executorch.exir.dialects._ops import ops as exir_ops
    from executorch.exir.pass_base import ExportPass, PassResult

    class SplitToSlicesPass(ExportPass):
        """``split_with_sizes_copy`` (XNNPACK has none) -> one ``slice_copy`` per used output."""

        def call(self, graph_module: torch.fx.GraphModule) -> PassResult:
            graph = graph_module.graph
            for node in list(graph.nodes):
                if node.target != exir_ops.edge.aten.split_with_sizes_copy.default:
                    continue
                if not all(user.target is operator.getitem for user in node.users):
                    continue
                source, sizes = node.args[0], list(node.args[1])
                dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
                starts = list(accumulate([0, *sizes]))
                for user in list(node.users):
                    index = user.args[1]
                    with graph.inserting_before(user):
                        piece = graph.call_function(
                            exir_ops.edge.aten.slice_copy.Tensor, (source, dim, starts[index], starts[index + 1], 1)
                        )
                    piece.meta = dict(user.meta)
                    user.replace_all_uses_with(piece)
                    graph.erase_node(user)
                graph.erase_node(node)
            graph.lint()
            graph_module.recompile()
            return PassResult(super().call(graph_module).graph_module, True)

    class KeepdimMeanPass(ExportPass):
        """Rank-4 ``mean`` over (H, W) without keepdim (XNNPACK takes keepdim only) -> with keepdim + ``view_copy``."""

        def call_operator(self, op, args, kwargs, meta):  # noqa: ANN001, ANN201 (ExportPass signature)
            if op != exir_ops.edge.aten.mean.dim or kwargs.get("dtype") is not None or (len(args) > 2 and args[2]):
                return super().call_operator(op, args, kwargs, meta)
            shape = args[0].to_tensor().shape
            if len(shape) != 4 or sorted(d % 4 for d in args[1]) != [2, 3]:
                return super().call_operator(op, args, kwargs, meta)
            kept = super().call_operator(op, (args[0], args[1], True), kwargs, meta)
            return super().call_operator(exir_ops.edge.aten.view_copy.default, (kept, list(shape[:2])), {}, meta)

    return get_transform_passes([SplitToSlicesPass(), KeepdimMeanPass()])
