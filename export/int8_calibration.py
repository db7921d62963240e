"""Calibration and held-out inputs for INT8: an image folder with the model's preprocessing, or synthetic images."""
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.errors import UnknownOptionError
from lsnet.export.parity import THRESHOLDS
from lsnet.runtimes.evaluate import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

MAX_CALIBRATION_IMAGES = 1024
SYNTHETIC_CALIBRATION_SEED = 20250
HELDOUT_SEED = 777
HELDOUT_IMAGES = 32
HOLDOUT_EVERY = 5  # every 5th folder image is held out of calibration: the INT8 gate judges those


@dataclass
class CalibrationData:
    """Arrays the quantizer and the agreement report use, and where they came from."""

    calibration: np.ndarray
    heldout: dict[str, np.ndarray]
    source: str
    synthetic: bool
    gated: str  # the held-out case the INT8 gate judges: real images calibration never saw, when there are any
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "synthetic": self.synthetic,
            "calibration_images": int(len(self.calibration)),
            "heldout": {name: int(len(a)) for name, a in self.heldout.items()},
            "gated": self.gated,
            "notes": self.notes,
        }


def min_folder_images() -> int:
    """Enough folder images that the held-out part is a case whose top-1 agreement is judged (``top1_min_batch``)."""
    return THRESHOLDS["int8"].top1_min_batch * HOLDOUT_EVERY


def calibration_data(calib: str | None, cfg: Any) -> CalibrationData:
    """``calib`` is an image folder or a number N of synthetic images; ``cfg`` is the model's pretrained_cfg."""
    from lsnet.export.validate import image_like_batch

    size = tuple(cfg.input_size[1:])
    synthetic = f"held-out image-like ({HELDOUT_IMAGES})"
    heldout = {synthetic: image_like_batch(HELDOUT_IMAGES, size, cfg.mean, cfg.std, HELDOUT_SEED)}
    if calib is None or str(calib).strip() == "":
        raise UnknownOptionError("--int8 needs calibration data: pass --calib DIR (a folder of images) or --calib N (synthetic images).")
    text = str(calib).strip()
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_CALIBRATION_IMAGES:
            raise UnknownOptionError(f"--calib {count}: use 1..{MAX_CALIBRATION_IMAGES} synthetic images, or an image folder.")
        warning = (
            f"INT8 CALIBRATED ON {count} SYNTHETIC IMAGES, NOT REAL DATA: the accuracy of this model is UNKNOWN. "
            "Calibrate with --calib DIR (a few hundred images of your data) before deploying it."
        )
        log.warning("%s\n%s\n%s", "!" * 80, warning, "!" * 80)
        data = image_like_batch(count, size, cfg.mean, cfg.std, SYNTHETIC_CALIBRATION_SEED)
        return CalibrationData(data, heldout, f"{count} synthetic image-like inputs", True, synthetic, [warning])
    folder = Path(text)
    if not folder.is_dir():
        raise UnknownOptionError(f"--calib '{calib}' is neither a folder of images nor a number; pass a folder path or e.g. --calib 64.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UnknownOptionError(f"--calib folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); add some or pass --calib N.")
    notes = []
    if len(files) > MAX_CALIBRATION_IMAGES:
        notes.append(f"{len(files)} images found; the first {MAX_CALIBRATION_IMAGES} (sorted by path) are used")
        files = files[:MAX_CALIBRATION_IMAGES]
    minimum = min_folder_images()
    if len(files) < minimum:
        raise UnknownOptionError(
            f"--calib folder {folder} holds {len(files)} images; INT8 needs at least {minimum}"
            f" (every {HOLDOUT_EVERY}th is held out to judge accuracy): add images, a few hundred work best."
        )
    arrays = load_folder(files, cfg)
    held = np.arange(len(files)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    gated = f"held-out folder images ({int(held.sum())})"
    heldout[gated] = arrays[held]
    if len(files) < 100:
        notes.append(f"only {len(files)} calibration images: a few hundred give more reliable ranges and a firmer gate")
    return CalibrationData(arrays[~held], heldout, f"{len(files)} images from {folder}", False, gated, notes)


def load_folder(files: list[Path], cfg: Any) -> np.ndarray:
    """Decode and preprocess images with the model's eval transform; unreadable files are a clear error."""
    from lsnet.preprocess import load_image, preprocess

    size = tuple(cfg.input_size[1:])
    return np.stack(
        [preprocess(load_image(f), size, cfg.mean, cfg.std, cfg.crop_pct, cfg.interpolation) for f in files]
    ).astype(np.float32)


def chunks(inputs: np.ndarray, size: int, pad: bool) -> Iterable[tuple[np.ndarray, int]]:
    """(batch, valid rows) slices of ``inputs``; the last one zero-padded to ``size`` when ``pad``."""
    for start in range(0, len(inputs), size):
        part = inputs[start : start + size]
        valid = len(part)
        if pad and valid < size:
            part = np.concatenate([part, np.zeros((size - valid, *part.shape[1:]), part.dtype)])
        yield np.ascontiguousarray(part), valid
