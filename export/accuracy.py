"""Held-out accuracy in the export gates (``--eval FOLDER``): an artifact's top-1 beside its PyTorch reference's.

FOLDER holds one subfolder per class, matched to the model's labels by name (sorted folder order only for a
model without class names); evaluation streams through ``lsnet.runtimes.evaluate`` (the core of ``lsnet eval``).
"""
from pathlib import Path
from typing import Any

from torch import nn


def check_eval_folder(reference: nn.Module, folder: Path) -> str:
    """Fail before any export work when ``folder`` cannot be evaluated for ``reference``; how classes match."""
    from lsnet.runtimes.evaluate import class_folders, list_images, match_folders

    cfg = reference.pretrained_cfg
    mapping, _, matched_by = match_folders(class_folders(Path(folder)), cfg.num_classes, cfg.labels)
    list_images(class_folders(Path(folder)), mapping)
    return matched_by


def accuracy_failures(report: dict[str, Any], max_drop: float, min_agreement: float | None) -> list[str]:
    """One line per violated limit: top-1 more than ``max_drop`` points below the reference, too little agreement."""
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


def evaluate_export(path: Path, reference: nn.Module, options: Any, device: str = "cpu") -> dict[str, Any]:
    """Accuracy of the freshly exported ``path`` (no sidecar yet: preprocessing and labels from ``reference``) and
    of the PyTorch ``reference`` on ``options.eval_folder``, with the verdict: failed when the artifact loses more
    than ``options.max_accuracy_drop`` points, or for INT8 agrees with it on fewer than ``options.int8_threshold``."""
    from lsnet.runtimes.evaluate import agreement, evaluate

    folder = Path(options.eval_folder)
    artifact = evaluate(path, folder, metadata=reference.pretrained_cfg.to_dict(), device=device)
    pytorch = evaluate(reference, folder)
    report = {
        "folder": str(folder),
        "images": artifact.images,
        "skipped": len(artifact.skipped),
        "classes_matched_by": artifact.matched_by,
        "top1": artifact.top1,
        "top5": artifact.top5,
        "reference": "PyTorch FP32",
        "reference_top1": pytorch.top1,
        "reference_top5": pytorch.top5,
        "top1_agreement": agreement(artifact, pytorch),
        "max_accuracy_drop": options.max_accuracy_drop,
    }
    report["failures"] = accuracy_failures(report, options.max_accuracy_drop, options.int8_threshold if options.precision == "int8" else None)
    report["passed"] = not report["failures"]
    return report
