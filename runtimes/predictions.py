"""One prediction for ``lsnet predict``, ``lsnet eval`` and ``lsnet serve``: decode, top-k, one JSON schema.

Every image is decoded and preprocessed the artifact's own way (its sidecar or the model's ``pretrained_cfg``
through ``lsnet.preprocess``); its logits become softmax top-k rows. The JSON of one image is::

    {"image": "cat.jpg", "top": [{"index": 281, "label": "tabby", "probability": 0.91}, ...]}

``image`` is the file path (predict), the multipart file name or ``"image N"`` (serve); ``top`` is sorted by
probability, best first; ``label`` comes from the artifact's ``labels`` (a list of names), ImageNet-1k names
for 1000-class models, else ``"class N"``.
"""
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.errors import LsnetError

DEFAULT_MAX_PIXELS = 40_000_000


class ImageTooLargeError(LsnetError):
    """An image whose header declares more pixels than allowed; refused before decoding."""


def image_pixels(source: str | Path | bytes) -> tuple[int, int]:
    """(width, height) from the image header only, without decoding the pixels."""
    import io

    from PIL import Image

    from lsnet.preprocess import ImageReadError

    name = "uploaded image" if isinstance(source, bytes) else str(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            return img.size
    except Image.DecompressionBombError as exc:  # PIL refuses headers beyond twice its limit while opening
        raise ImageTooLargeError(f"{name} declares too many pixels ({exc}); downscale it.") from None
    except FileNotFoundError:
        raise ImageReadError(f"image not found: {name}") from None
    except Exception as exc:  # PIL raises many kinds for a bad header, DecompressionBombError among them
        raise ImageReadError(f"cannot read {name} as an image ({type(exc).__name__}): pass a JPEG/PNG/WebP file.") from None


def check_pixels(source: str | Path | bytes, max_pixels: int | None, name: str = "image") -> None:
    """Refuse an image whose header declares more than ``max_pixels`` pixels (None: no limit)."""
    if max_pixels is None:
        return
    width, height = image_pixels(source)
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name} is {width}x{height} ({width * height / 1e6:.1f} MP), above the {max_pixels / 1e6:g} MP limit; "
            "downscale it or raise --max-pixels."
        )


def decode_image(source: str | Path | bytes, preprocessing: dict[str, Any], max_pixels: int | None = None) -> np.ndarray:
    """(3, H, W) float32 from a file or encoded bytes with the artifact's preprocessing fields."""
    from lsnet.preprocess import load_image, preprocess_from_metadata

    check_pixels(source, max_pixels, "uploaded image" if isinstance(source, bytes) else str(source))
    return preprocess_from_metadata(load_image(source), preprocessing)


def class_names(num_classes: int, labels: Sequence[str] | str | None = None) -> list[str]:
    """Display names: the artifact's own ``labels`` list when it names every class, else lsnet's defaults."""
    from lsnet.labels import labels_for

    if labels is not None and not isinstance(labels, str) and len(labels) == num_classes:
        return [str(name) for name in labels]
    return labels_for(num_classes)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, classes) logits in float64."""
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def top_k(logits: np.ndarray, k: int, labels: Sequence[str]) -> list[list[dict[str, Any]]]:
    """The k best classes of every row of (N, classes) logits: [{index, label, probability}, ...] per image."""
    logits = np.atleast_2d(np.asarray(logits))
    probs = softmax(logits)
    order = np.argsort(-logits, axis=1, kind="stable")[:, : min(k, logits.shape[1])]
    return [
        [{"index": int(c), "label": labels[c], "probability": float(p[c])} for c in row]
        for row, p in zip(order, probs)
    ]


def prediction(image: str, top: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON of one image's prediction."""
    return {"image": image, "top": top}
