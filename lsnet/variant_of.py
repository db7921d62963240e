"""Which variants a state dict fits, judged by key names and shapes."""
from functools import cache

import torch

from lsnet.attention import COMPUTED_BUFFER_SUFFIX
from lsnet.model import LSNet
from lsnet.variants import VARIANTS


@cache
def variant_signature(name: str) -> frozenset[tuple[str, tuple[int, ...]]]:
    """Key/shape pairs of a variant's backbone (head excluded: classes vary), built on the meta device."""
    with torch.device("meta"):
        model = LSNet(VARIANTS[name], num_classes=1000)
    return frozenset(
        (k, tuple(v.shape)) for k, v in model.state_dict().items()
        if not k.startswith(("head.", "head_dist.")) and not k.endswith("attention_biases")
    )


def matching_variants(state: dict[str, torch.Tensor]) -> list[str]:
    """Variants whose backbone keys and shapes all appear in ``state`` and whose head layout matches."""
    pairs = {(k, tuple(v.shape)) for k, v in state.items() if not k.endswith(COMPUTED_BUFFER_SUFFIX)}
    has_dist = any(k.startswith("head_dist.") for k in state)
    backbone = {p for p in pairs if not p[0].startswith(("head.", "head_dist.")) and not p[0].endswith("attention_biases")}
    return [
        name for name, variant in VARIANTS.items()
        if variant_signature(name) == backbone and variant.distillation == has_dist
    ]
