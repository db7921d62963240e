"""The INT8 accuracy gate shared by every INT8 export: agreement with FP32 on images the calibration never saw."""
import logging
from dataclasses import asdict
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from lsnet.errors import ParityError, UnknownOptionError
from lsnet.export.int8_calibration import CalibrationData, chunks
from lsnet.export.options import ExportOptions
from lsnet.export.parity import ParityReport, Thresholds, compare, limits_for

log = logging.getLogger(__name__)

Logits = Callable[[np.ndarray], np.ndarray]  # a batch of preprocessed images -> float32 logits
BATCH = 16  # images per call where the model's batch is dynamic


def torch_logits(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """FP32 logits of the PyTorch ``model`` on ``inputs``, in batches."""
    import torch

    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(part)).numpy() for part, _ in chunks(inputs, BATCH, pad=False)])


def artifact_logits(path: Path, inputs: np.ndarray) -> np.ndarray:
    """Float logits of the artifact at ``path`` (its runner, by suffix) on ``inputs``: in its fixed batch, the
    last chunk zero-padded, or in batches of ``BATCH`` when the batch is dynamic."""
    from lsnet.runtimes.base import infer_in_chunks
    from lsnet.runtimes.registry import open_runner

    with open_runner(path) as runner:
        return infer_in_chunks(runner, inputs, BATCH)


def check_int8_threshold(options: ExportOptions) -> None:
    """``--int8-threshold`` is a fraction; checked before any export work."""
    if not 0.0 <= options.int8_threshold <= 1.0:
        raise UnknownOptionError(f"--int8-threshold {options.int8_threshold} must be between 0 and 1.")


def agreement_report(int8: Logits, fp32: Logits, data: CalibrationData, limits: Thresholds,
                     max_calibration_cases: int = 64) -> tuple[ParityReport, ParityReport]:
    """INT8 vs FP32 outputs: (the gate, on the held-out images; the other cases, recorded only).

    The gate judges the real images calibration never saw (``data.gated``); synthetic inputs and the
    calibration images themselves say nothing about accuracy and are recorded beside it. Only when the
    calibration is synthetic (no real images at all) is the synthetic held-out case judged.
    """
    gate = ParityReport(precision="int8-vs-fp32", thresholds=limits)
    recorded = ParityReport(precision="int8-vs-fp32", thresholds=limits)
    cases = {f"calibration images ({min(len(data.calibration), max_calibration_cases)})": data.calibration[:max_calibration_cases], **data.heldout}
    for name, inputs in cases.items():
        (gate if name == data.gated else recorded).cases.append(compare(name, int8(inputs), fp32(inputs), limits))
    return gate, recorded


def judge_int8(int8: Logits, fp32: Logits, data: CalibrationData, options: ExportOptions, notes: list[str]) -> dict[str, Any]:
    """Run the gate and return its sidecar record; raise ParityError (nothing written) when it fails and
    ``options.validate`` is on, warn and keep the model when validation is off."""
    report, recorded = agreement_report(int8, fp32, data, limits_for("int8", options.int8_threshold))
    report.notes.extend(data.notes + notes)
    if not report.passed and not options.validate:
        log.warning("INT8 agreement with FP32 is below the limits (%s); kept because validation is off", report.failures[0])
    elif not report.passed:
        raise ParityError(
            f"INT8 model disagrees with FP32: {report.failures[0]} (limit: top-1 agreement >= --int8-threshold"
            f" {options.int8_threshold} on images the calibration never saw); calibrate with more real images"
            " (--calib DIR) or lower --int8-threshold. Nothing was written."
        )
    worst = report.worst()
    log.info("INT8 vs FP32: top-1 agreement >= %.3f, top-5 >= %.3f, cosine >= %.4f", worst["min_top1_agreement"], worst["min_top5_agreement"], worst["min_cosine"])
    return {
        "threshold": options.int8_threshold,
        "agreement_with_fp32": report.to_dict(),
        "recorded_cases": [asdict(case) for case in recorded.cases],
    }
