"""Request reading and decoding: the body (bounded in size and time), raw image bytes or multipart/form-data into preprocessed images."""
import asyncio
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import numpy as np

from lsnet.errors import LsnetError

RAW_TYPES = ("image/", "application/octet-stream")


class RequestError(LsnetError):
    """A request the service refuses; ``status`` is the HTTP code sent back with the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The client closed its connection before the request was answered."""


@dataclass(frozen=True)
class Upload:
    """One image of a request: its bytes and, for multipart uploads, its file name."""

    data: bytes
    name: str | None = None


async def read_body(request: Any, limit: int, timeout_s: float) -> bytes:
    """The request body: 413 as soon as it exceeds ``limit`` bytes, 408 if it takes longer than ``timeout_s``."""
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length")
    too_large = RequestError(413, f"request body larger than {limit / 1048576:g} MiB; send smaller images or raise --max-body-mb.")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large

    async def collect() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(collect(), timeout_s)
    except asyncio.TimeoutError:
        raise RequestError(408, f"the request body did not arrive within {timeout_s:g} s; send it faster or raise --read-timeout-s.") from None
    except ClientDisconnect:
        raise ClientGone() from None


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
