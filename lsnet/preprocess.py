"""Image preprocessing from a model's pretrained_cfg: resize, centre crop, normalize (timm eval transform)."""
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lsnet.errors import LsnetError

INTERPOLATIONS = {"bicubic": 3, "bilinear": 2, "nearest": 0}  # PIL.Image.Resampling values


class ImageReadError(LsnetError):
    """An image file that is missing or cannot be decoded."""


def load_image(source: str | Path | bytes):
    """Open an image file or bytes as an RGB PIL image; one clear error if it cannot be read.

    Shared by predict, eval and serve. 16-bit images are scaled to 8 bits (not clipped to white); images
    above PIL's decompression-bomb limit are refused with one line.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    name = "uploaded image" if isinstance(source, bytes) else str(source)
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        with stream, Image.open(stream) as img:
            img.load()
            return to_rgb(img, name)
    except FileNotFoundError:
        raise ImageReadError(f"image not found: {name}") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{name} is too large to decode safely ({exc}); downscale it first.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {name} as an image ({type(exc).__name__}): pass a JPEG/PNG/WebP file.") from None


SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def to_rgb(img, name: str):
    """RGB of a decoded PIL image; 16-bit (and 32-bit integer holding 16-bit) grey is scaled by 255/65535."""
    from PIL import Image

    if img.mode not in SIXTEEN_BIT_MODES:
        return img.convert("RGB")
    values = np.asarray(img).astype(np.int64)
    if values.size and (values.min() < 0 or values.max() > 65535):
        raise ImageReadError(f"{name} holds {img.mode} values outside 0..65535: save it as an 8- or 16-bit image.")
    grey = np.rint(values * (255.0 / 65535.0)).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def preprocess(
    image,
    img_size: Sequence[int],
    mean: Sequence[float],
    std: Sequence[float],
    crop_pct: float = 0.9,
    interpolation: str = "bicubic",
) -> np.ndarray:
    """(3, H, W) float32: resize the shorter side to size/crop_pct, centre-crop to size, scale, normalize."""
    height, width = img_size
    scale_size = (math.floor(height / crop_pct), math.floor(width / crop_pct))
    w, h = image.size
    if w < h:  # shorter side to the target, keep the aspect ratio
        new_w, new_h = scale_size[1], max(1, round(h * scale_size[1] / w))
    else:
        new_h, new_w = scale_size[0], max(1, round(w * scale_size[0] / h))
    resized = image.resize((new_w, new_h), resample=INTERPOLATIONS[interpolation])
    left, top = (new_w - width) // 2, (new_h - height) // 2
    cropped = resized.crop((left, top, left + width, top + height))
    array = np.asarray(cropped, dtype=np.float32) / 255.0
    array = (array - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def preprocess_from_metadata(image, metadata: dict) -> np.ndarray:
    """Preprocess with the fields of an artifact sidecar or ``pretrained_cfg.to_dict()``."""
    size = metadata.get("img_size") or metadata["input_size"][1:]
    return preprocess(image, size, metadata["mean"], metadata["std"], metadata["crop_pct"], metadata["interpolation"])
