"""Held-out accuracy in the export gates (``--eval FOLDER``): an artifact's top-1 beside its reference's.

FOLDER holds one subfolder per class, matched to the model's labels by name (sorted folder order only
for a model without class names, and the report says so). Images are streamed in batches: memory stays
bounded for any folder size.
"""
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.errors import UnknownOptionError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
EVAL_BATCH = 16


@dataclass(frozen=True)
class LabelledImages:
    """The images of a labelled folder with the class index of each, and how folders were matched."""

    folder: Path
    files: tuple[Path, ...]
    targets: np.ndarray
    matched_by: str  # "name" or "sorted folder order"


def image_files(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive), sorted by path."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def labelled_images(folder: str | Path, labels: Any, num_classes: int) -> LabelledImages:
    """Files and targets of ``folder``; ``labels`` is the model's class names (a sequence) or None/'imagenet-1k'."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UnknownOptionError(f"--eval {folder} is not a folder: pass a folder with one subfolder of images per class.")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise UnknownOptionError(f"--eval {folder} has no class subfolders: put each class's images in a subfolder named after its label.")
    named = labels is not None and not isinstance(labels, str)
    if named:
        index = {name: i for i, name in enumerate(labels)}
        unknown = [c for c in classes if c not in index]
        if unknown:
            raise UnknownOptionError(
                f"--eval {folder}: class folder '{unknown[0]}' is not one of the model's labels"
                f" ({', '.join(list(index)[:5])}{', ...' if len(index) > 5 else ''}); rename it or pass the matching --labels."
            )
        target_of = index
    else:
        if len(classes) > num_classes:
            raise UnknownOptionError(f"--eval {folder} has {len(classes)} class folders but the model has {num_classes} classes.")
        target_of = {name: i for i, name in enumerate(classes)}
    files, targets = [], []
    for name in classes:
        found = image_files(folder / name)
        files += found
        targets += [target_of[name]] * len(found)
    if not files:
        raise UnknownOptionError(f"--eval {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}) in its class folders.")
    return LabelledImages(folder, tuple(files), np.asarray(targets), "name" if named else "sorted folder order")


def load_images(files: list[Path], cfg: Any) -> np.ndarray:
    """Decode and preprocess images with the model's eval transform; unreadable files are a clear error."""
    from lsnet.preprocess import load_image, preprocess

    size = tuple(cfg.input_size[1:])
    return np.stack(
        [preprocess(load_image(f), size, cfg.mean, cfg.std, cfg.crop_pct, cfg.interpolation) for f in files]
    ).astype(np.float32)


def image_batches(images: LabelledImages, cfg: Any, size: int = EVAL_BATCH) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(preprocessed batch, targets) chunks with the model's eval transform."""
    for start in range(0, len(images.files), size):
        yield load_images(list(images.files[start : start + size]), cfg), images.targets[start : start + size]


def topk_accuracy(logits: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Fraction of rows whose target is among the ``k`` highest logits."""
    k = min(k, logits.shape[1])
    return float(np.mean([t in row for t, row in zip(targets, np.argsort(-logits, axis=1)[:, :k])]))


def accuracy_report(images: LabelledImages, cfg: Any, artifact: Callable[[np.ndarray], np.ndarray],
                    reference: Callable[[np.ndarray], np.ndarray], reference_name: str) -> dict[str, Any]:
    """Top-1/top-5 of ``artifact`` and ``reference`` (batch -> logits) on ``images``, and their top-1 agreement."""
    art, ref = [], []
    for batch, _ in image_batches(images, cfg):
        art.append(artifact(batch))
        ref.append(reference(batch))
    a, r, t = np.concatenate(art), np.concatenate(ref), images.targets
    return {
        "folder": str(images.folder),
        "images": int(len(t)),
        "classes_matched_by": images.matched_by,
        "top1": topk_accuracy(a, t, 1),
        "top5": topk_accuracy(a, t, 5),
        "reference": reference_name,
        "reference_top1": topk_accuracy(r, t, 1),
        "reference_top5": topk_accuracy(r, t, 5),
        "top1_agreement": float(np.mean(a.argmax(1) == r.argmax(1))),
    }


def accuracy_failures(report: dict[str, Any], max_drop: float, min_agreement: float | None) -> list[str]:
    """One line per violated accuracy limit: top-1 more than ``max_drop`` points below the reference, agreement."""
    out = []
    drop = 100 * (report["reference_top1"] - report["top1"])
    if drop > max_drop:
        out.append(
            f"held-out top-1 {100 * report['top1']:.1f}% is {drop:.1f} points below {report['reference']}'s"
            f" {100 * report['reference_top1']:.1f}% (--max-accuracy-drop {max_drop:g})"
        )
    if min_agreement is not None and report["top1_agreement"] < min_agreement:
        out.append(f"held-out top-1 agreement with {report['reference']} {report['top1_agreement']:.3f} < {min_agreement}")
    return out


def eval_images(reference: Any, folder: str | Path) -> LabelledImages:
    """The labelled images of ``folder`` for ``reference`` (matched to its class names); checked before any export work."""
    cfg = reference.pretrained_cfg
    return labelled_images(folder, getattr(cfg, "labels", None), cfg.num_classes)


def evaluate_export(path: Path, reference: Any, images: LabelledImages, options: Any, device: str = "cpu") -> dict[str, Any]:
    """Accuracy of the freshly exported ``path`` and of the PyTorch ``reference`` on ``images``, with the verdict:
    failed when the artifact loses more than ``options.max_accuracy_drop`` points (or, for INT8, agrees with the
    reference on fewer than ``options.int8_threshold`` of the images)."""
    import torch

    from lsnet.runtimes.base import pad_batch
    from lsnet.runtimes.registry import open_runner

    cfg = reference.pretrained_cfg
    model = reference.eval().float()

    def run_reference(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(batch)).numpy()

    with open_runner(Path(path), device=device) as runner:
        fixed = runner.input_spec.shape[0]

        def run_artifact(batch: np.ndarray) -> np.ndarray:
            if fixed is None:
                return runner.infer(batch)
            return np.concatenate([runner.infer(pad_batch(batch[i : i + fixed], fixed))[: len(batch[i : i + fixed])] for i in range(0, len(batch), fixed)])

        report = accuracy_report(images, cfg, run_artifact, run_reference, "PyTorch FP32")
    report["max_accuracy_drop"] = options.max_accuracy_drop
    report["failures"] = accuracy_failures(report, options.max_accuracy_drop, options.int8_threshold if options.precision == "int8" else None)
    report["passed"] = not report["failures"]
    return report
