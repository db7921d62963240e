"""Held-out accuracy for benchmark rows: ``lsnet eval`` on every opened target, stored in ``extra["accuracy"]``."""
import logging
from pathlib import Path
from typing import Any

from lsnet.bench.harness import Candidate

log = logging.getLogger(__name__)


def accuracy_record(result: Any) -> dict[str, Any]:
    """The ``accuracy`` object of a results row (schema ``lsnet-bench/1``) from an ``EvalResult``."""
    return {
        "top1": result.top1,
        "top5": result.top5,
        "images": result.images,
        "skipped": len(result.skipped),
        "dataset": Path(result.folder).name,
        "matched_by": result.matched_by,
    }


def measure_accuracy(candidates: list[Candidate], folder: Path, labels: Path | None = None, batch: int = 32) -> None:
    """Evaluate each candidate's open runner on ``folder``; a target whose classes do not fit the folder gets
    no accuracy (one warning line) instead of failing the run. A bad folder fails before any target runs."""
    from lsnet.errors import LabelsError
    from lsnet.runtimes.evaluate import ClassMismatchError, class_folders, evaluate

    class_folders(Path(folder))
    for candidate in candidates:
        try:
            result = evaluate(candidate.runner, folder, labels=labels, batch=batch)
        except (ClassMismatchError, LabelsError) as exc:
            log.warning("no accuracy for %s: %s", candidate.label, exc)
            continue
        candidate.extra["accuracy"] = accuracy_record(result)
        log.info("%s: top-1 %.2f%% on %s (%d images)", candidate.label, 100 * result.top1, folder, result.images)
