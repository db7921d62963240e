"""The Open Inference Protocol (KServe v2) REST routes, so Triton/KServe clients work against ``lsnet serve``.

Inputs (one per request): ``input`` FP32 [N, 3, H, W] preprocessed pixels (like Triton's generated
repository), or ``image`` BYTES [N] encoded image files (JPEG/PNG/WebP, preprocessed here like /predict).
Output ``logits`` FP32 [N, classes]; ``"classification": k`` in its parameters answers Triton's
``"value:index:label"`` strings (value = the logit) instead. JSON ``data`` and the binary-data extension
(``Inference-Header-Content-Length``) are both accepted and answered.
"""
import json
import struct
from typing import Any

import numpy as np

from lsnet.serve.codec import RequestError, Upload

TENSOR_INPUT, BYTES_INPUT, OUTPUT = "input", "image", "logits"
HEADER_LENGTH = "inference-header-content-length"
MODEL_VERSION = "1"


def deserialize_bytes(raw: bytes) -> list[bytes]:
    """Triton's binary BYTES tensor: each element as a 4-byte little-endian length and its bytes."""
    items, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise RequestError(400, "malformed BYTES tensor: a length prefix is cut off.")
        (size,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + size > len(raw):
            raise RequestError(400, "malformed BYTES tensor: an element is shorter than its length prefix.")
        items.append(raw[offset : offset + size])
        offset += size
    return items


def serialize_bytes(items: list[bytes]) -> bytes:
    """The inverse of ``deserialize_bytes``."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def split_request(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """(JSON inference request, binary tail) of a v2 request body."""
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise RequestError(400, f"Inference-Header-Content-Length {header_length!r} does not fit a {len(body)}-byte body.")
        head, tail = body[: int(header_length)], body[int(header_length) :]
    else:
        head, tail = body, b""
    try:
        request = json.loads(head)
    except ValueError as exc:
        raise RequestError(400, f"the inference request is not JSON ({exc}).") from None
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list) or len(request["inputs"]) != 1:
        raise RequestError(400, f"send exactly one input: '{TENSOR_INPUT}' (FP32 NCHW) or '{BYTES_INPUT}' (BYTES, encoded images).")
    return request, tail


def input_payload(tensor: dict[str, Any], tail: bytes) -> tuple[list[int], str, Any]:
    """(shape, datatype, raw bytes or JSON data) of the request's input tensor."""
    shape, datatype = tensor.get("shape"), tensor.get("datatype")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise RequestError(400, "the input needs a 'shape' list of non-negative integers.")
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size != len(tail):
            raise RequestError(400, f"binary_data_size {size} does not match the {len(tail)} binary bytes sent.")
        return shape, datatype, tail
    if "data" not in tensor:
        raise RequestError(400, "the input has neither 'data' nor a binary_data_size.")
    return shape, datatype, tensor["data"]


def tensor_images(shape: list[int], datatype: str, data: Any, size: tuple[int, int], max_images: int) -> np.ndarray:
    """The FP32 NCHW batch of a tensor input, checked against the model's input size."""
    expected = [3, *size]
    if datatype != "FP32" or len(shape) != 4 or shape[1:] != expected:
        raise RequestError(400, f"input '{TENSOR_INPUT}' must be FP32 [N, {', '.join(map(str, expected))}], got {datatype} {shape}.")
    if not 1 <= shape[0] <= max_images:
        raise RequestError(413 if shape[0] > max_images else 400, f"batch of {shape[0]} images; send 1..{max_images} per request.")
    try:
        array = np.frombuffer(data, dtype="<f4") if isinstance(data, bytes) else np.asarray(data, dtype=np.float32)
        return array.reshape(shape).astype(np.float32, copy=False)
    except (ValueError, TypeError) as exc:
        raise RequestError(400, f"input data does not hold {shape} FP32 values ({exc}).") from None


def byte_uploads(shape: list[int], datatype: str, data: Any, max_images: int) -> list[Upload]:
    """The encoded images of a BYTES input (binary extension)."""
    if datatype != "BYTES":
        raise RequestError(400, f"input '{BYTES_INPUT}' must be BYTES (encoded image files), got {datatype}.")
    if not isinstance(data, bytes):
        raise RequestError(400, f"send '{BYTES_INPUT}' with the binary-data extension (tritonclient: set_data_from_numpy(..., binary_data=True)).")
    items = deserialize_bytes(data)
    if len(items) != int(np.prod(shape)) or not items:
        raise RequestError(400, f"shape {shape} does not match the {len(items)} BYTES elements sent.")
    if len(items) > max_images:
        raise RequestError(413, f"{len(items)} images in one request; at most {max_images} are accepted.")
    return [Upload(item) for item in items]


def output_tensor(request: dict[str, Any], logits: np.ndarray, labels: list[str]) -> tuple[dict[str, Any], bytes]:
    """The ``logits`` output (or its classification strings) as JSON, plus its bytes when binary was asked."""
    wanted = request.get("outputs") or [{"name": OUTPUT}]
    if len(wanted) != 1 or wanted[0].get("name") != OUTPUT:
        raise RequestError(400, f"this model has one output, '{OUTPUT}'.")
    params = wanted[0].get("parameters") or {}
    binary = bool(params.get("binary_data", (request.get("parameters") or {}).get("binary_data_output", False)))
    k = int(params.get("classification") or 0)
    if k > 0:
        from lsnet.runtimes.predictions import top_k

        rows = top_k(logits, k, labels)
        # Triton's format: the output's own value (here the logit), its index, its label
        strings = [f"{logits[n, t['index']]:f}:{t['index']}:{t['label']}".encode() for n, row in enumerate(rows) for t in row]
        out = {"name": OUTPUT, "datatype": "BYTES", "shape": [len(rows), len(rows[0])]}
        raw = serialize_bytes(strings)
        data: Any = [s.decode() for s in strings]
    else:
        out = {"name": OUTPUT, "datatype": "FP32", "shape": list(logits.shape)}
        raw = np.ascontiguousarray(logits, dtype="<f4").tobytes()
        data = logits.astype(np.float32).ravel().tolist()
    if binary:
        out["parameters"] = {"binary_data_size": len(raw)}
        return out, raw
    out["data"] = data
    return out, b""


def v2_routes(service: Any) -> list:
    """Starlette routes of the v2 protocol around ``service`` (an ``lsnet.serve.app.Service``)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from lsnet.runtimes.predictions import class_names
    from lsnet.serve.codec import read_body

    name = str(service.metadata.get("variant") or "lsnet")
    spec = service.runner.input_spec
    num_classes = int(service.metadata.get("num_classes") or 0)

    def known(request: Request) -> None:
        if request.path_params["model"] != name or request.path_params.get("version", MODEL_VERSION) != MODEL_VERSION:
            raise RequestError(404, f"unknown model {request.path_params['model']!r}; this server serves {name!r} version {MODEL_VERSION}.")

    def counted(endpoint: str, status: int) -> None:
        service.metrics.requests.inc(endpoint=endpoint, status=str(status))

    async def live(request: Request) -> Response:
        counted("/v2/health/live", 200)
        return JSONResponse({"live": True})

    async def ready(request: Request) -> Response:
        status = 200 if service.ready else 503
        counted("/v2/health/ready", status)
        return JSONResponse({"ready": service.ready}, status_code=status)

    async def server_metadata(request: Request) -> Response:
        from lsnet import __version__

        counted("/v2", 200)
        return JSONResponse({"name": "lsnet", "version": __version__, "extensions": ["binary_tensor_data", "classification"]})

    async def model_metadata(request: Request) -> Response:
        async def body() -> dict[str, Any]:
            known(request)
            return {
                "name": name,
                "versions": [MODEL_VERSION],
                "platform": f"lsnet_{service.runner.info.runtime}",
                "inputs": [
                    {"name": TENSOR_INPUT, "datatype": "FP32", "shape": [-1, 3, *spec.shape[2:]]},
                    {"name": BYTES_INPUT, "datatype": "BYTES", "shape": [-1]},
                ],
                "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [-1, num_classes or -1]}],
            }

        return await service.answer(request, "/v2/models", body)

    async def model_ready(request: Request) -> Response:
        async def body() -> Response:
            known(request)
            return JSONResponse({"name": name, "ready": service.ready}, status_code=200 if service.ready else 503)

        return await service.answer(request, "/v2/models/ready", body)

    async def infer(request: Request) -> Response:
        async def body() -> Response:
            known(request)
            raw = await read_body(request, service.settings.max_body_bytes, service.settings.read_timeout_s)
            inference, tail = split_request(raw, request.headers.get(HEADER_LENGTH))
            tensor = inference["inputs"][0]
            shape, datatype, data = input_payload(tensor, tail)
            if tensor.get("name") == TENSOR_INPUT:
                images = tensor_images(shape, datatype, data, tuple(spec.shape[2:]), service.settings.queue_size)
            elif tensor.get("name") == BYTES_INPUT:
                images = await service.decode(byte_uploads(shape, datatype, data, service.settings.queue_size))
            else:
                raise RequestError(400, f"unknown input {tensor.get('name')!r}: send '{TENSOR_INPUT}' (FP32 NCHW) or '{BYTES_INPUT}' (BYTES).")
            logits = await service.infer(images)
            out, binary = output_tensor(inference, logits, service.labels or class_names(logits.shape[1]))
            answer = {"model_name": name, "model_version": MODEL_VERSION, "outputs": [out]}
            if "id" in inference:
                answer["id"] = inference["id"]
            if not binary:
                return JSONResponse(answer)
            head = json.dumps(answer).encode()
            return Response(head + binary, media_type="application/octet-stream", headers={"Inference-Header-Content-Length": str(len(head))})

        return await service.answer(request, "/v2/models/infer", body)

    return [
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2/models/{model}", model_metadata, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}", model_metadata, methods=["GET"]),
        Route("/v2/models/{model}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{model}/versions/{version}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{model}/infer", infer, methods=["POST"]),
        Route("/v2/models/{model}/versions/{version}/infer", infer, methods=["POST"]),
    ]
