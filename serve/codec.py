"""Request decoding: raw image bytes or multipart/form-data into preprocessed images."""
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

import numpy as np

from lsnet.errors import LsnetError

RAW_TYPES = ("image/", "application/octet-stream")


class RequestError(LsnetError):
    """A request the service refuses; ``status`` is the HTTP code sent back with the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    """One image of a request: its bytes and, for multipart uploads, its file name."""

    data: bytes
    name: str | None = None


def media_type(content_type: str) -> str:
    """'image/jpeg; q=1' -> 'image/jpeg'."""
    return content_type.split(";", 1)[0].strip().lower()


def split_uploads(content_type: str, body: bytes, max_images: int) -> list[Upload]:
    """The images of a request body: the body itself for image/*, every part of a multipart form."""
    kind = media_type(content_type)
    if not body:
        raise RequestError(400, "empty request body: send the image bytes or a multipart form with image files.")
    if kind.startswith(RAW_TYPES):
        uploads = [Upload(body)]
    elif kind == "multipart/form-data":
        uploads = _multipart_uploads(content_type, body)
    else:
        raise RequestError(
            415,
            f"unsupported content type '{kind or 'none'}': send image/jpeg, image/png (raw bytes) or multipart/form-data.",
        )
    if len(uploads) > max_images:
        raise RequestError(413, f"{len(uploads)} images in one request; at most {max_images} are accepted.")
    return uploads


def _multipart_uploads(content_type: str, body: bytes) -> list[Upload]:
    if "boundary=" not in content_type:
        raise RequestError(400, "multipart/form-data without a boundary: let your HTTP client build the form.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise RequestError(400, "malformed multipart body: no parts were found.")
    uploads = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True) or b""
        if data:
            uploads.append(Upload(data, part.get_filename() or part.get_param("name", header="content-disposition")))
    if not uploads:
        raise RequestError(400, "the multipart form holds no files: attach one or more images.")
    return uploads


def decode_images(uploads: list[Upload], preprocessing: dict, max_pixels: int | None = None) -> np.ndarray:
    """Decode and preprocess every upload into an (N, 3, H, W) float32 batch; 400 for a non-image, 413 too many pixels."""
    from lsnet.preprocess import ImageReadError
    from lsnet.runtimes.predictions import ImageTooLargeError, decode_image

    arrays = []
    for i, upload in enumerate(uploads):
        try:
            arrays.append(decode_image(upload.data, preprocessing, max_pixels))
        except ImageTooLargeError as exc:
            raise RequestError(413, f"{upload_name(upload, i)}: {exc}") from None
        except ImageReadError:
            raise RequestError(400, f"{upload_name(upload, i)} is not a readable image: send JPEG, PNG or WebP bytes.") from None
    return np.stack(arrays)


def upload_name(upload: Upload, index: int) -> str:
    """The name an upload has in answers: its multipart file name, else 'image N' (N = position in the request)."""
    return upload.name or f"image {index}"
