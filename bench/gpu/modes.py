"""The modes the GPU run measures, in the order it measures them, and the parity limits of each.

Every mode is a ``TorchRunner`` configuration of one model with the same weights. The eager modes
run each registered SKA formulation in FP32; the stacked modes (channels_last, autocast, CUDA
graphs, torch.compile) run on the model's fastest eager formulation of this run (``ska=None``).
Labels use the ``lsnet bench`` target syntax, so any row can be measured again with
``lsnet bench LABEL --device cuda --batch N``.
"""
from dataclasses import dataclass, field
from typing import Any

from lsnet.export.parity import THRESHOLDS, Thresholds

REFERENCE_SKA = "reference"
KERNEL_SKA = "triton"  # our fused kernels; every other formulation is pure PyTorch

# bf16 keeps 8 bits of mantissa: elementwise limits say little, agreement of the logits does
BF16_LIMITS = Thresholds(atol=float("inf"), rtol=float("inf"), min_cosine=0.999, min_top1=0.9)


@dataclass(frozen=True)
class Mode:
    """One runner configuration: ``TorchRunner`` options, a fixed SKA (None = fastest eager), and how to run it."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    ska: str | None = None
    isolated: bool = False  # in a child process under a time limit (torch.compile can take minutes)

    @property
    def modifiers(self) -> list[str]:
        """The ``lsnet bench`` target modifiers of this mode (without the SKA)."""
        flags = {"channels_last": "channels_last", "cuda_graph": "cudagraph", "compile": "compile"}
        out = [f"amp-{self.options['autocast']}"] if self.options.get("autocast") else []
        return out + [modifier for key, modifier in flags.items() if self.options.get(key)]

    @property
    def limits(self) -> Thresholds:
        """Parity limits against FP32 eager with the reference SKA."""
        autocast = self.options.get("autocast")
        return BF16_LIMITS if autocast == "bf16" else THRESHOLDS["fp16" if autocast == "fp16" else "fp32"]

    def label(self, model: str, ska: str) -> str:
        """``lsnet_t@ska=triton+amp-fp16``: the row's target."""
        return "+".join([f"{model}@ska={ska}", *self.modifiers])


def eager_modes(formulations: list[str]) -> list[Mode]:
    """FP32 eager with each formulation: the reference first (the baseline of every ratio), our kernels last
    (a fault in a kernel that has never run on this GPU ends the process's CUDA context, not the other rows)."""
    order = sorted(formulations, key=lambda name: (name != REFERENCE_SKA, name == KERNEL_SKA, name))
    return [Mode("eager", ska=name) for name in order]


STACKED_MODES = (
    Mode("cudagraph", {"cuda_graph": True}),
    Mode("amp-fp16", {"autocast": "fp16"}),
    Mode("amp-bf16", {"autocast": "bf16"}),
    Mode("channels_last", {"channels_last": True}),
    Mode("cudagraph+amp-fp16+channels_last", {"cuda_graph": True, "autocast": "fp16", "channels_last": True}),
)
COMPILE_MODE = Mode("compile", {"compile": True}, isolated=True)
