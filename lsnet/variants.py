"""LSNet variants as data: widths, depths and heads per stage, and the official weight sources."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """Architecture hyper-parameters of one LSNet variant (four stages)."""

    embed_dim: tuple[int, int, int, int]
    depth: tuple[int, int, int, int]
    num_heads: tuple[int, int, int, int] = (3, 3, 3, 4)
    key_dim: tuple[int, int, int, int] = (16, 16, 16, 16)
    distillation: bool = False
    paper_params_m: float = 0.0
    paper_macs_g: float = 0.0
    paper_throughput_3090: int = 0


_BASE = {
    "lsnet_t": Variant((64, 128, 256, 384), (0, 2, 8, 10), paper_params_m=11.4, paper_macs_g=0.3, paper_throughput_3090=14708),
    "lsnet_s": Variant((96, 192, 320, 448), (1, 2, 8, 10), paper_params_m=16.1, paper_macs_g=0.5, paper_throughput_3090=9023),
    "lsnet_b": Variant((128, 256, 384, 512), (4, 6, 8, 10), paper_params_m=23.2, paper_macs_g=1.3, paper_throughput_3090=3996),
}

VARIANTS: dict[str, Variant] = {
    **_BASE,
    **{
        f"{name}_distill": Variant(**{**v.__dict__, "distillation": True})
        for name, v in _BASE.items()
    },
}

HF_HUB_IDS: dict[str, str] = {name: f"jameslahm/{name}" for name in VARIANTS}
