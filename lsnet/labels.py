"""Class names: ImageNet-1k's in the standard class-index order, or a model's own (``--labels FILE``)."""
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path

from torch import nn

from lsnet.errors import LabelsError

IMAGENET = "imagenet-1k"  # the ``labels`` value of models and sidecars that use the ImageNet-1k names


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


def default_labels(num_classes: int) -> str | None:
    """``IMAGENET`` for a 1000-class model, None (no names known) otherwise."""
    return IMAGENET if num_classes == len(imagenet_classes()) else None


def labels_for(num_classes: int, labels: str | Sequence[str] | None = None) -> list[str]:
    """Display names for ``num_classes`` outputs from a model's or sidecar's ``labels`` value
    (a list of names, ``IMAGENET``, or None: ImageNet names for 1000 classes, 'class N' otherwise)."""
    if labels is not None and not isinstance(labels, str):
        names = [str(name) for name in labels]
        check_labels(names, num_classes, "the artifact's labels")
        return names
    if (labels or default_labels(num_classes)) == IMAGENET and num_classes == len(imagenet_classes()):
        return [short_label(i) for i in range(num_classes)]
    return [f"class {i}" for i in range(num_classes)]


def has_names(labels: str | Sequence[str] | None, num_classes: int) -> bool:
    """Whether ``labels`` gives real class names (a list, or ImageNet for a 1000-class model)."""
    if labels is None or isinstance(labels, str):
        return (labels or default_labels(num_classes)) == IMAGENET and num_classes == len(imagenet_classes())
    return True


def read_labels(path: str | os.PathLike) -> list[str]:
    """Class names from a text file (one per line) or a JSON list of strings."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"labels file not found: {path}. Pass a text file with one class name per line or a JSON list.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"cannot read labels file {path} ({type(exc).__name__}): pass a UTF-8 text or JSON file.") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            names = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabelsError(f"labels file {path} is not valid JSON ({exc.msg}, line {exc.lineno}): pass a JSON list of names.") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise LabelsError(f"labels file {path} must hold a JSON list of strings, e.g. [\"cat\", \"dog\"].")
    else:
        names = text.splitlines()
        while names and not names[-1].strip():
            names.pop()
    names = [n.strip() for n in names]
    blank = [i + 1 for i, n in enumerate(names) if not n]
    if blank:
        raise LabelsError(f"labels file {path} has an empty name at line/entry {blank[0]}: give every class a name.")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LabelsError(f"labels file {path} names '{duplicates[0]}' more than once: class names must be unique.")
    if not names:
        raise LabelsError(f"labels file {path} is empty: give one class name per line.")
    return names


def check_labels(names: Sequence[str], num_classes: int, source: str) -> None:
    """One clear error when the number of names differs from the model's class count."""
    if len(names) != num_classes:
        raise LabelsError(
            f"{source} has {len(names)} names but the model has {num_classes} classes: pass a labels file with "
            f"one name per output, in the head's order."
        )


def attach_labels(model: nn.Module, labels: str | os.PathLike | Sequence[str]) -> nn.Module:
    """Give ``model`` its class names (a labels file or a list); they travel into every export's metadata."""
    names = read_labels(labels) if isinstance(labels, (str, os.PathLike)) else [str(n) for n in labels]
    check_labels(names, model.num_classes, f"labels {labels}" if isinstance(labels, (str, os.PathLike)) else "the labels")
    model.pretrained_cfg = replace(model.pretrained_cfg, labels=tuple(names))
    return model
