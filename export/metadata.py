"""Metadata every artifact carries: what model, what input, which weights, which tools."""
import hashlib
import platform
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.init import RANDOM_WEIGHTS

RANDOM_INIT_SEED = 0


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_record(weights: Path | None) -> dict[str, Any]:
    """Where the weights came from: a file and its sha256, or the seeded random initialisation."""
    if weights is None:
        return {"weights": RANDOM_WEIGHTS, "weights_init": "lsnet.init.realistic_init", "weights_seed": RANDOM_INIT_SEED, "weights_sha256": None}
    return {"weights": str(weights), "weights_sha256": file_sha256(weights)}


def model_metadata(model: nn.Module, name: str, input_name: str, output_name: str, batch: int | None) -> dict[str, Any]:
    """Input/preprocessing description shared by all formats (from the model's pretrained_cfg)."""
    cfg = model.pretrained_cfg
    return {
        "variant": name,
        "task": "image-classification",
        "input": {
            "name": input_name,
            "shape": [batch if batch is not None else "batch", *cfg.input_size],
            "layout": "NCHW",
            "dtype": "float32",
            "color": "RGB",
            "range": "normalized: (pixel/255 - mean) / std",
        },
        "output": {"name": output_name, "shape": [batch if batch is not None else "batch", cfg.num_classes]},
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "crop_pct": cfg.crop_pct,
        "interpolation": cfg.interpolation,
        "img_size": list(cfg.input_size[1:]),
        "num_classes": cfg.num_classes,
        "labels": cfg.labels,
        "license": cfg.license,
        "paper": cfg.paper,
    }


def tool_versions(*extra: str) -> dict[str, str | None]:
    """Versions of lsnet, torch, numpy and any ``extra`` distributions."""
    names = ("lsnet", "torch", "numpy", *extra)
    versions = {n: package_version(n) for n in names}
    versions["python"] = platform.python_version()
    return versions


def timestamp() -> str:
    """UTC time in ISO 8601."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
