"""Preprocessing and provenance that every consumer (export, predict, bench) reuses."""
from dataclasses import asdict, dataclass, field

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PretrainedCfg:
    """timm-style description of the input a model expects and where its weights come from."""

    input_size: tuple[int, int, int] = (3, 224, 224)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    crop_pct: float = 0.9
    interpolation: str = "bicubic"
    num_classes: int = 1000
    hf_hub_id: str = ""
    labels: str | tuple[str, ...] | None = "imagenet-1k"  # "imagenet-1k", the class names, or None (unnamed)
    license: str = "mit"
    paper: str = "arXiv:2503.23135"
    tags: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """Plain-JSON form (tuples become lists)."""
        return asdict(self)
