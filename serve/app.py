"""The Starlette application: /predict, /health, /metadata, /metrics around one MicroBatcher."""
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from lsnet.runtimes.base import Runner
from lsnet.serve.batching import BatcherClosedError, MicroBatcher, QueueFullError
from lsnet.serve.codec import RequestError, decode_images, split_uploads, upload_name
from lsnet.serve.metrics import ServeMetrics
from lsnet.serve.settings import ServeSettings

log = logging.getLogger(__name__)


def batch_limits(runner: Runner, max_batch: int) -> tuple[int, int | None]:
    """(largest batch to form, fixed batch to pad to or None) from the runner's input spec."""
    spec = runner.input_spec
    fixed = spec.shape[0]
    limit = min(max_batch, spec.max_batch or max_batch, fixed or max_batch)
    return limit, fixed


async def read_body(request: Any, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    too_large = RequestError(413, f"request body larger than {limit / 1048576:g} MiB; send smaller images or raise --max-body-mb.")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class Service:
    """State shared by the routes: runner, metadata, labels, batcher, metrics."""

    def __init__(self, runner: Runner, metadata: dict[str, Any], settings: ServeSettings) -> None:
        from lsnet.runtimes.predictions import class_names

        self.runner = runner
        self.metadata = metadata
        self.settings = settings
        self.preprocessing = {**metadata, "img_size": list(runner.input_spec.shape[2:])}
        num_classes = int(metadata.get("num_classes") or 0) or None
        self.labels = class_names(num_classes, metadata.get("labels")) if num_classes else None
        limit, fixed = batch_limits(runner, settings.max_batch)
        self.metrics = ServeMetrics(lambda: self.batcher.depth, limit)
        self.batcher = MicroBatcher(
            runner.infer, limit, settings.max_wait_ms / 1000.0, settings.queue_size, fixed, self._record_batch
        )

    def _record_batch(self, size: int, seconds: float) -> None:
        self.metrics.batch_size.observe(size)
        self.metrics.inference.observe(seconds)
        self.metrics.images.inc(size)

    async def predict(self, request: Any) -> dict[str, Any]:
        """Decode, queue, await the logits of every image, answer top-k per image."""
        from starlette.concurrency import run_in_threadpool

        body = await read_body(request, self.settings.max_body_bytes)
        uploads = split_uploads(request.headers.get("content-type", ""), body, self.settings.queue_size)
        images = await run_in_threadpool(decode_images, uploads, self.preprocessing)
        try:
            futures = self.batcher.submit(images)
        except QueueFullError as exc:
            raise RequestError(503, f"server busy: {exc}; retry later.") from None
        except BatcherClosedError:
            raise RequestError(503, "server is shutting down; retry on another instance.") from None
        try:
            rows = await asyncio.wait_for(
                asyncio.gather(*(asyncio.wrap_future(f) for f in futures)), self.settings.timeout_s
            )
        except asyncio.TimeoutError:
            raise RequestError(504, f"inference did not finish within {self.settings.timeout_s:g} s.") from None
        from lsnet.runtimes.predictions import class_names, prediction, top_k

        logits = np.stack(rows)
        tops = top_k(logits, self.settings.top, self.labels or class_names(logits.shape[1]))
        return {
            "model": self.metadata.get("variant"),
            "predictions": [prediction(upload_name(upload, i), top) for i, (upload, top) in enumerate(zip(uploads, tops))],
        }


def create_app(runner: Runner, metadata: dict[str, Any], settings: ServeSettings | None = None):
    """A Starlette app serving ``runner``; the batcher starts and drains with the app's lifespan."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    service = Service(runner, metadata, settings or ServeSettings())

    async def predict(request: Request) -> JSONResponse:
        start = time.perf_counter()
        try:
            response = JSONResponse(await service.predict(request))
        except RequestError as exc:
            response = JSONResponse({"error": str(exc)}, status_code=exc.status)
        except Exception as exc:  # a failed inference still gets exactly one answer
            log.exception("predict failed")
            response = JSONResponse({"error": f"inference failed: {type(exc).__name__}: {exc}"}, status_code=500)
        service.metrics.requests.inc(endpoint="/predict", status=str(response.status_code))
        service.metrics.latency.observe(time.perf_counter() - start)
        return response

    async def health(request: Request) -> JSONResponse:
        draining = service.batcher.closed
        service.metrics.requests.inc(endpoint="/health", status="503" if draining else "200")
        return JSONResponse(
            {"status": "draining" if draining else "ok", "queue_depth": service.batcher.depth},
            status_code=503 if draining else 200,
        )

    async def metadata_route(request: Request) -> JSONResponse:
        service.metrics.requests.inc(endpoint="/metadata", status="200")
        info = service.runner.info
        return JSONResponse(
            {
                "model": service.metadata,
                "runtime": {"name": info.runtime, "device": info.device, "precision": info.precision},
                "input": {"name": service.runner.input_spec.name, "shape": list(service.runner.input_spec.shape)},
                "serving": {**service.settings.to_dict(), "effective_max_batch": service.batcher.max_batch},
            }
        )

    async def metrics(request: Request) -> Response:
        service.metrics.requests.inc(endpoint="/metrics", status="200")
        return Response(service.metrics.render(), media_type=service.metrics.CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.batcher.start()
        log.info("serving %s on %s (%s), max batch %d", metadata.get("variant"), runner.info.runtime, runner.info.device, service.batcher.max_batch)
        try:
            yield
        finally:
            log.info("draining %d queued image(s) before shutdown", service.batcher.depth)
            await asyncio.to_thread(service.batcher.close, service.settings.timeout_s)

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metadata", metadata_route, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app
