"""Accuracy of any artifact on a labelled image folder (one subfolder per class), streamed in batches.

``evaluate(target, folder)`` opens a model name, checkpoint, nn.Module, exported artifact or open ``Runner``;
preprocesses every image the artifact's own way (sidecar or ``pretrained_cfg``); matches class folders to the
artifact's labels by name (sorted order only when the artifact has no names); and returns an ``EvalResult``
with top-1/top-5, per-class figures and the most confused pairs. Only one batch of pixels is held at a time.
"""
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from lsnet.errors import ArtifactError, LsnetError, UnknownOptionError
from lsnet.runtimes.base import Runner, infer_in_chunks

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm"})
PREPROCESS_KEYS = ("mean", "std", "crop_pct", "interpolation", "img_size")
CONFUSED_PAIRS = 10

Progress = Callable[[int, int], None]  # (images done, images total)


class EvalFolderError(LsnetError):
    """A labelled folder that cannot be evaluated (no class folders, an unknown class, no images)."""


class ClassMismatchError(EvalFolderError):
    """Class folders that do not fit the model's classes (a name that is not a label, too many folders)."""


@dataclass
class ClassResult:
    """Accuracy on one class folder."""

    label: str
    index: int
    images: int
    top1: float
    top5: float


@dataclass
class EvalResult:
    """What ``evaluate`` measured. ``predictions`` maps each evaluated image (path) to its top-1 class index."""

    artifact: str
    folder: str
    images: int
    top1: float
    top5: float
    per_class: list[ClassResult]
    confused: list[dict[str, Any]]
    matched_by: str  # "name" or "sorted order"
    skipped: list[str] = field(default_factory=list)
    predictions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (predictions left out: one entry per image)."""
        return {
            "artifact": self.artifact,
            "folder": self.folder,
            "images": self.images,
            "top1": self.top1,
            "top5": self.top5,
            "matched_by": self.matched_by,
            "skipped": len(self.skipped),
            "skipped_images": self.skipped,
            "per_class": [vars(c) for c in self.per_class],
            "confused": self.confused,
        }


@dataclass
class Classifier:
    """An open runner with the preprocessing fields and class names it needs."""

    runner: Runner
    preprocessing: dict[str, Any]
    num_classes: int
    labels: str | Sequence[str] | None  # a list of names, "imagenet-1k", or None


def open_classifier(
    target: str | Path | nn.Module | Runner,
    *,
    weights: str | Path | None = None,
    labels: str | Path | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    device: str = "cpu",
) -> Classifier:
    """Open ``target`` for classification. ``metadata`` overrides the sidecar (preprocessing, labels,
    num_classes), e.g. for an artifact still under its temporary name; ``labels`` overrides its names."""
    from lsnet.init import RANDOM_WEIGHTS, warn_random_weights
    from lsnet.labels import check_labels, read_labels
    from lsnet.runtimes.registry import open_runner
    from lsnet.variants import VARIANTS

    if isinstance(target, Runner):
        runner = target
    elif isinstance(target, str) and target in VARIANTS:
        from lsnet.factory import create_model

        if weights is None:
            warn_random_weights(target)
        runner = open_runner(create_model(target, checkpoint_path=weights), device=device)
    else:
        if weights is not None:
            raise UnknownOptionError("--weights applies to a model name only; an artifact or checkpoint carries its own weights.")
        if not isinstance(target, nn.Module) and not Path(target).exists():
            raise LsnetError(f"artifact not found: {target}. Pass an existing .onnx/.engine/.mlpackage/.pth file or a model name.")
        runner = open_runner(target, device=device)
        if runner.info.metadata.get("weights") == RANDOM_WEIGHTS:
            warn_random_weights(str(target))
    model = getattr(runner, "model", None)
    known = model.pretrained_cfg.to_dict() if model is not None and hasattr(model, "pretrained_cfg") else {}
    info = {**known, **{k: v for k, v in runner.info.metadata.items() if v is not None}, **(metadata or {})}
    if not all(k in info or (k == "img_size" and "input_size" in info) for k in PREPROCESS_KEYS):
        runner.close()
        raise ArtifactError(f"{target} has no sidecar with its preprocessing; keep the .json file beside it.")
    num_classes = int(info.get("num_classes") or getattr(model, "num_classes", 0) or probe_classes(runner, info))
    names: str | Sequence[str] | None = info.get("labels")
    if labels is not None:
        names = read_labels(labels) if isinstance(labels, (str, os.PathLike)) else [str(n) for n in labels]
        check_labels(names, num_classes, f"--labels {labels}" if isinstance(labels, (str, os.PathLike)) else "labels")
    return Classifier(runner, info, num_classes, names)


def probe_classes(runner: Runner, info: dict[str, Any]) -> int:
    """Output width of one zero image (for artifacts whose metadata does not say)."""
    size = info.get("img_size") or info["input_size"][1:]
    return int(infer_in_chunks(runner, np.zeros((1, 3, *size), dtype=np.float32), 1).shape[1])


def class_folders(folder: Path) -> list[Path]:
    """The non-hidden subfolders of ``folder``, sorted; one clear error when there are none."""
    if not folder.is_dir():
        raise EvalFolderError(f"image folder not found: {folder}. Pass a folder with one subfolder of images per class.")
    folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise EvalFolderError(f"{folder} has no class subfolders: put each class's images in a subfolder named after its label.")
    return folders


def match_folders(folders: list[Path], num_classes: int, labels: str | Sequence[str] | None) -> tuple[dict[str, int], list[str], str]:
    """Class index of each folder name, the display names, and how they were matched ("name" or "sorted order")."""
    from lsnet.choices import suggest
    from lsnet.labels import IMAGENET, has_names, imagenet_classes, labels_for

    names = labels_for(num_classes, labels)
    if not has_names(labels, num_classes):
        if len(folders) > num_classes:
            raise ClassMismatchError(
                f"{len(folders)} class folders but the model has {num_classes} classes: pass --labels to match them by name."
            )
        return {f.name: i for i, f in enumerate(folders)}, names, "sorted order"
    index = {name: i for i, name in enumerate(names)}
    if labels in (None, IMAGENET):  # ImageNet folders are usually named by WordNet id (n01440764)
        index.update({wnid: i for i, (wnid, _) in enumerate(imagenet_classes())})
    mapping = {}
    for f in folders:
        if f.name not in index:
            raise ClassMismatchError(
                f"class folder '{f.name}' is not one of the model's labels.{suggest(f.name, index)} Rename the folder "
                f"to its label, or pass --labels with the names in the head's order."
            )
        mapping[f.name] = index[f.name]
    return mapping, names, "name"


def list_images(folders: list[Path], mapping: dict[str, int]) -> list[tuple[Path, int]]:
    """(image path, true class) for every image file, in folder then file-name order."""
    items = []
    for f in folders:
        files = sorted(p for p in f.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise EvalFolderError(
                f"class folder {f} has no images ({', '.join(sorted(IMAGE_SUFFIXES))}): add images or remove the folder."
            )
        items.extend((p, mapping[f.name]) for p in files)
    return items


def _load(path: Path, preprocessing: dict[str, Any]) -> np.ndarray | None:
    from lsnet.preprocess import ImageReadError, load_image, preprocess_from_metadata

    try:
        return preprocess_from_metadata(load_image(path), preprocessing)
    except ImageReadError as exc:
        log.warning("skipped %s", exc)
        return None


def batches(
    items: list[tuple[Path, int]], preprocessing: dict[str, Any], batch: int, workers: int
) -> Iterator[tuple[list[Path], np.ndarray | None, list[int], int]]:
    """Yield (paths, pixels, true classes, files consumed) per batch; unreadable images are dropped."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            pixels = list(pool.map(lambda item: _load(item[0], preprocessing), chunk))
            kept = [(item, p) for item, p in zip(chunk, pixels) if p is not None]
            paths = [item[0] for item, _ in kept]
            yield paths, np.stack([p for _, p in kept]) if kept else None, [item[1] for item, _ in kept], len(chunk)


def evaluate(
    target: str | Path | nn.Module | Runner | Classifier,
    folder: str | Path,
    *,
    weights: str | Path | None = None,
    labels: str | Path | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    batch: int = 32,
    device: str = "cpu",
    progress: Progress | None = None,
    workers: int | None = None,
) -> EvalResult:
    """Top-1/top-5, per-class accuracy and confused pairs of ``target`` on ``folder`` (see the module doc)."""
    if batch < 1:
        raise UnknownOptionError("--batch must be >= 1.")
    folder = Path(folder)
    folders = class_folders(folder)  # folder errors before any model is opened
    classifier = target if isinstance(target, Classifier) else open_classifier(
        target, weights=weights, labels=labels, metadata=metadata, device=device
    )
    owned = not isinstance(target, (Classifier, Runner))
    try:
        mapping, names, matched_by = match_folders(folders, classifier.num_classes, classifier.labels)
        items = list_images(folders, mapping)
        return _run(classifier, items, names, matched_by, str(target), folder, batch, progress, workers)
    finally:
        if owned:
            classifier.runner.close()


def _run(classifier: Classifier, items: list[tuple[Path, int]], names: list[str], matched_by: str, artifact: str,
         folder: Path, batch: int, progress: Progress | None, workers: int | None) -> EvalResult:
    classes = classifier.num_classes
    confusion = np.zeros((classes, classes), dtype=np.int64)
    top5_hits = np.zeros(classes, dtype=np.int64)
    predictions: dict[str, int] = {}
    done = 0
    k = min(5, classes)
    for paths, pixels, truth, consumed in batches(items, classifier.preprocessing, batch, workers or min(4, os.cpu_count() or 1)):
        if pixels is not None:
            logits = infer_in_chunks(classifier.runner, pixels, batch)
            if logits.shape[1] != classes:
                raise LsnetError(f"{artifact} returned {logits.shape[1]} outputs, its metadata says {classes} classes.")
            top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
            true = np.asarray(truth)
            np.add.at(confusion, (true, top[:, 0]), 1)
            np.add.at(top5_hits, true[(top == true[:, None]).any(axis=1)], 1)
            predictions.update({str(p): int(c) for p, c in zip(paths, top[:, 0])})
        done += consumed
        if progress:
            progress(done, len(items))
    skipped = sorted({str(p) for p, _ in items} - set(predictions))
    if skipped:
        log.warning("%d of %d images could not be read and were skipped", len(skipped), len(items))
    total = int(confusion.sum())
    if total == 0:
        raise EvalFolderError(f"none of the {len(items)} images in {folder} could be read: pass JPEG/PNG/WebP files.")
    per_image = confusion.sum(axis=1)
    per_class = [
        ClassResult(names[i], i, int(per_image[i]), float(confusion[i, i] / per_image[i]), float(top5_hits[i] / per_image[i]))
        for i in sorted(set(c for _, c in items)) if per_image[i]
    ]
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    pairs = np.argwhere(off > 0)
    pairs = sorted(pairs.tolist(), key=lambda p: (-off[p[0], p[1]], p[0], p[1]))[:CONFUSED_PAIRS]
    confused = [{"true": names[t], "predicted": names[p], "count": int(off[t, p])} for t, p in pairs]
    return EvalResult(
        artifact=artifact, folder=str(folder), images=total,
        top1=float(np.trace(confusion) / total), top5=float(top5_hits.sum() / total),
        per_class=per_class, confused=confused, matched_by=matched_by, skipped=skipped, predictions=predictions,
    )


def agreement(a: EvalResult, b: EvalResult) -> float:
    """Fraction of the images both evaluated on which ``a`` and ``b`` predict the same top-1 class."""
    common = a.predictions.keys() & b.predictions.keys()
    if not common:
        raise LsnetError("the two evaluations share no images; compare them on the same folder.")
    return sum(a.predictions[p] == b.predictions[p] for p in common) / len(common)
