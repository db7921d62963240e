"""Parity of any artifact against the PyTorch reference, through the runner for its suffix."""
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsnet.errors import ArtifactError, CheckpointError
from lsnet.runtimes.artifact_metadata import read_sidecar, sidecar_path
from lsnet.export.options import ExportOptions
from lsnet.export.parity import INT8_SYNTHETIC, THRESHOLDS, ParityReport, Thresholds, compare

PARITY_SEED = 1234


def random_batch(batch: int, img_size: tuple[int, int], seed: int) -> np.ndarray:
    """Standard-normal NCHW float32 batch."""
    return np.random.default_rng(seed).standard_normal((batch, 3, *img_size)).astype(np.float32)


def image_like_batch(batch: int, img_size: tuple[int, int], mean: Any, std: Any, seed: int) -> np.ndarray:
    """Smooth colour gradients with a checkerboard and a disc, in [0, 1], normalized like a real image."""
    rng = np.random.default_rng(seed)
    height, width = img_size
    yy, xx = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    images = []
    for _ in range(batch):
        phase, cells = rng.uniform(0, 2 * np.pi, 3), int(rng.integers(4, 16))
        checker = ((np.floor(yy * cells) + np.floor(xx * cells)) % 2) * 0.3
        cy, cx, radius = rng.uniform(0.3, 0.7, 2).tolist() + [rng.uniform(0.1, 0.3)]
        disc = (((yy - cy) ** 2 + (xx - cx) ** 2) < radius**2) * 0.4
        channels = [0.5 + 0.25 * np.sin(2 * np.pi * (xx + yy) + p) + checker - disc for p in phase]
        images.append(np.clip(np.stack(channels), 0.0, 1.0))
    pixels = np.stack(images).astype(np.float32)
    return ((pixels - np.reshape(mean, (1, 3, 1, 1))) / np.reshape(std, (1, 3, 1, 1))).astype(np.float32)


def parity_cases(img_size: tuple[int, int], mean: Any, std: Any, batches: list[int]) -> list[tuple[str, np.ndarray]]:
    """(name, batch) pairs: random normal and image-like inputs at every batch size."""
    cases = []
    for batch in batches:
        cases.append((f"random normal, batch {batch}", random_batch(batch, img_size, PARITY_SEED + batch)))
        cases.append((f"image-like, batch {batch}", image_like_batch(batch, img_size, mean, std, PARITY_SEED + batch)))
    return cases


def parity_batches(dynamic_batch: bool, batch: int | None, precision: str = "fp32") -> list[int]:
    """Batch sizes to check: 1, 2 and the odd 3 for a dynamic batch (plus one batch large enough for the
    top-1 check of quantized models, ``Thresholds.top1_min_batch``); the fixed batch otherwise."""
    if not dynamic_batch:
        return [batch or 1]
    top1_batch = THRESHOLDS[precision].top1_min_batch
    return [1, 2, 3] + ([top1_batch] if top1_batch > 3 else [])


@torch.no_grad()
def run_parity(path: Path, reference: nn.Module, precision: str, batches: list[int], device: str = "cpu",
               limits: Thresholds | None = None) -> ParityReport:
    """Run the artifact (runner chosen by suffix) and the reference on every case; collect the metrics."""
    from lsnet.runtimes.registry import open_runner

    cfg = reference.pretrained_cfg
    report = ParityReport(precision=precision, thresholds=limits or THRESHOLDS[precision])
    reference = reference.eval().float()
    with open_runner(Path(path), device=device) as runner:
        for name, batch in parity_cases(tuple(cfg.input_size[1:]), cfg.mean, cfg.std, batches):
            expected = reference(torch.from_numpy(batch)).numpy()
            report.cases.append(compare(name, runner.infer(batch), expected, report.thresholds))
    return report


def validate_with_runner(path: Path, reference: nn.Module, options: ExportOptions) -> ParityReport:
    """The format hook: parity of a freshly exported artifact against the unfused reference."""
    limits = synthetic_limits(options.precision)
    batches = parity_batches(options.dynamic_batch, options.batch, options.precision)
    return run_parity(path, reference, options.precision, batches, limits=limits)


def synthetic_limits(precision: str) -> Thresholds:
    """Limits on synthetic inputs: the precision's, except INT8 (``INT8_SYNTHETIC``: runs, finite outputs)."""
    return INT8_SYNTHETIC if precision == "int8" else THRESHOLDS[precision]


def reference_from_sidecar(path: Path, metadata: dict[str, Any], weights: Path | None, notes: list[str]) -> nn.Module:
    """Rebuild the reference model an artifact was exported from (variant, size, weights or seeded init)."""
    from lsnet.export.api import build_reference
    from lsnet.export.metadata import file_sha256
    from lsnet.init import RANDOM_WEIGHTS, warn_random_weights

    if weights is None and metadata.get("weights") not in (None, RANDOM_WEIGHTS):
        weights = Path(metadata["weights"])
        if not weights.is_file():
            raise CheckpointError(
                f"{path} was exported from {weights}, which is not there any more; pass it with --weights PATH."
            )
    if weights is not None:
        if not Path(weights).is_file():
            raise CheckpointError(f"weights file not found: {weights}; pass an existing .pth or .safetensors file.")
        recorded = metadata.get("weights_sha256")
        if recorded and file_sha256(Path(weights)) != recorded:
            notes.append(f"the sha256 of {weights} differs from the weights recorded at export; parity is against the given file")
    elif metadata.get("weights") == RANDOM_WEIGHTS:
        warn_random_weights(str(path))
        notes.append("artifact was exported from the seeded random initialisation; the reference is rebuilt the same way")
    options = ExportOptions(
        weights=Path(weights) if weights else None, img_size=tuple(metadata["img_size"]),
        num_classes=metadata.get("num_classes"),
    )
    return build_reference(metadata["variant"], options)


def validate_artifact(path: str | Path, weights: str | Path | None = None, device: str = "cpu") -> ParityReport:
    """``lsnet validate``: parity of an existing artifact of any format, from its sidecar."""
    from lsnet.runtimes.model_repository import resolve_artifact

    if not Path(path).exists():
        raise ArtifactError(f"artifact not found: {path}; pass the path of an exported model.")
    path = resolve_artifact(path)
    metadata = read_sidecar(path)
    if not metadata.get("variant"):
        raise ArtifactError(
            f"{path} has no sidecar {sidecar_path(path).name} naming its model; re-export it with lsnet export."
        )
    notes: list[str] = []
    reference = reference_from_sidecar(path, metadata, Path(weights) if weights else None, notes)
    report = _own_validator(path, metadata, reference)
    if report is not None:
        report.notes.extend(notes)
        return report
    shape = metadata.get("input", {}).get("shape", ["batch"])
    dynamic = not isinstance(shape[0], int)
    precision = metadata.get("precision", "fp32")
    limits = synthetic_limits(precision)
    if precision == "int8":
        notes.append("INT8 on synthetic inputs: checks that the graph runs; its accuracy was judged at export on held-out images (sidecar int8.agreement_with_fp32)")
    report = run_parity(path, reference, precision, parity_batches(dynamic, None if dynamic else shape[0], precision), device, limits)
    report.notes.extend(notes)
    return report


def _own_validator(path: Path, metadata: dict[str, Any], reference: nn.Module) -> ParityReport | None:
    """Core ML uses its own hook (structure everywhere, predictions only on macOS); others None."""
    from lsnet.export.api import load_hook
    from lsnet.export.formats import resolve_format
    from lsnet.export.options import make_options

    fmt = resolve_format(metadata.get("format", "onnx"))
    if fmt.name != "coreml":
        return None
    options = make_options(fmt, ska=metadata.get("ska"), half=metadata.get("precision") == "fp16", img_size=tuple(metadata["img_size"]))
    return load_hook(fmt.validator)(path, reference, options)


def format_report(report: ParityReport) -> str:
    """The report as a plain-text table with the verdict underneath."""
    lim = report.thresholds
    header = f"{'case':28s} {'max abs':>10s} {'max rel':>10s} {'cosine':>10s} {'top-1':>6s} {'top-5':>6s}  ok"
    lines = [header, "-" * len(header)]
    failing = {f.split(":")[0] for f in report.failures}
    for c in report.cases:
        lines.append(
            f"{c.case:28s} {c.max_abs_err:10.3g} {c.max_rel_err:10.3g} {c.cosine:10.7f} "
            f"{c.top1_agreement:6.2f} {c.top5_agreement:6.2f}  {'FAIL' if c.case in failing else 'yes'}"
        )
    lines.append(
        f"limits ({report.precision}): |a-r| <= {lim.atol:g} + {lim.rtol:g}*|r|, cosine >= {lim.min_cosine}, top-1 >= {lim.min_top1}"
        + (f" (cases of >= {lim.top1_min_batch} images)" if lim.top1_min_batch > 1 else "")
    )
    lines.extend(f"note: {n}" for n in report.notes)
    lines.append("parity: PASSED" if report.passed else f"parity: FAILED ({len(report.failures)} check(s))")
    return "\n".join(lines)


def require_parity(report: ParityReport, path: Path) -> None:
    """Raise ParityError naming the first failure when the report did not pass."""
    from lsnet.errors import ParityError

    if not report.passed:
        raise ParityError(f"{path} does not match PyTorch: {report.failures[0]} ({len(report.failures)} check(s) failed).")

