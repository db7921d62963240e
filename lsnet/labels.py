"""ImageNet-1k class names in the standard class-index order."""
from functools import cache
from importlib import resources


@cache
def imagenet_classes() -> tuple[tuple[str, str], ...]:
    """(wordnet_id, full label) for the 1000 classes, index = class id."""
    text = resources.files("lsnet").joinpath("data/imagenet_classes.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return tuple((wnid, label) for _, wnid, label in rows)


def short_label(index: int) -> str:
    """The first lemma of class ``index`` ('goldfish'), or 'class N' outside ImageNet-1k."""
    classes = imagenet_classes()
    return classes[index][1].split(",")[0] if 0 <= index < len(classes) else f"class {index}"


def labels_for(num_classes: int) -> list[str]:
    """Display names for a classifier with ``num_classes`` outputs."""
    if num_classes == len(imagenet_classes()):
        return [short_label(i) for i in range(num_classes)]
    return [f"class {i}" for i in range(num_classes)]
