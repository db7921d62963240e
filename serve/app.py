"""The Starlette application: /predict, /health, /metadata, /metrics around one MicroBatcher."""
import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np

from lsnet.runtimes.base import Runner
from lsnet.serve.batching import BatcherClosedError, MicroBatcher, QueueFullError
from lsnet.serve.codec import ClientGone, RequestError, Upload, decode_images, read_body, split_uploads, upload_name
from lsnet.serve.metrics import ServeMetrics
from lsnet.serve.settings import ServeSettings, public_metadata

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health", "/v2/health/live", "/v2/health/ready"})  # probes need no token
KNOWN_PATHS = frozenset({"/predict", "/metadata", "/metrics"})
DISCONNECTED = "499"  # nginx's "client closed request": counted apart from server errors


def batch_limits(runner: Runner, max_batch: int) -> tuple[int, int | None]:
    """(largest batch to form, fixed batch to pad to or None) from the runner's input spec."""
    spec = runner.input_spec
    fixed = spec.shape[0]
    limit = min(max_batch, spec.max_batch or max_batch, fixed or max_batch)
    return limit, fixed


class Service:
    """State shared by the routes: runner, metadata, labels, batcher, metrics, limits."""

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
        self.draining = False
        self.worker = {"index": 0, "of": 1, "threads": 0}  # set by lsnet.serve.workers
        self._decode_slots: asyncio.Semaphore | None = None

    @property
    def ready(self) -> bool:
        """Whether new work is accepted (false once draining for shutdown)."""
        return not (self.draining or self.batcher.closed)

    def _record_batch(self, size: int, seconds: float) -> None:
        self.metrics.batch_size.observe(size)
        self.metrics.inference.observe(seconds)
        self.metrics.images.inc(size)

    def authorized(self, headers: Any) -> bool:
        """True without --api-key, else whether ``Authorization: Bearer <key>`` matches (constant time)."""
        key = self.settings.api_key
        if key is None:
            return True
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())

    async def decode(self, uploads: list[Upload]) -> np.ndarray:
        """Preprocessed images; at most ``decode_concurrency`` requests decode at a time."""
        from starlette.concurrency import run_in_threadpool

        if self._decode_slots is None:
            self._decode_slots = asyncio.Semaphore(self.settings.decode_concurrency)
        async with self._decode_slots:
            return await run_in_threadpool(decode_images, uploads, self.preprocessing, self.settings.max_pixels)

    async def infer(self, images: np.ndarray) -> np.ndarray:
        """Queue every image and await its logits: 503 when full or draining, 504 after --timeout-s."""
        if not self.ready:
            raise RequestError(503, "server is shutting down; retry on another instance.")
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
        return np.stack(rows)

    async def predict(self, request: Any) -> dict[str, Any]:
        """Decode, queue, await the logits of every image, answer top-k per image."""
        from lsnet.runtimes.predictions import class_names, prediction, top_k

        body = await read_body(request, self.settings.max_body_bytes, self.settings.read_timeout_s)
        uploads = split_uploads(request.headers.get("content-type", ""), body, self.settings.queue_size)
        logits = await self.infer(await self.decode(uploads))
        tops = top_k(logits, self.settings.top, self.labels or class_names(logits.shape[1]))
        return {
            "model": self.metadata.get("variant"),
            "predictions": [prediction(upload_name(upload, i), top) for i, (upload, top) in enumerate(zip(uploads, tops))],
        }

    async def answer(self, request: Any, endpoint: str, handler: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``handler`` and answer exactly once: its response, a JSON 4xx/5xx, or nothing for a client gone."""
        from starlette.responses import JSONResponse, Response

        start = time.perf_counter()
        try:
            result = await handler()
            response = result if isinstance(result, Response) else JSONResponse(result)
        except RequestError as exc:
            response = JSONResponse({"error": str(exc)}, status_code=exc.status)
        except ClientGone:
            client = request.client.host if request.client else "client"
            log.info("%s disconnected before %s %s was answered", client, request.method, endpoint)
            response = Response(status_code=int(DISCONNECTED))  # never delivered; keeps the counters adding up
        except Exception as exc:  # a failed inference still gets exactly one answer
            log.exception("%s failed", endpoint)
            response = JSONResponse({"error": f"inference failed: {type(exc).__name__}: {exc}"}, status_code=500)
        self.metrics.requests.inc(endpoint=endpoint, status=str(response.status_code))
        self.metrics.latency.observe(time.perf_counter() - start)
        return response


class BearerAuth:
    """ASGI middleware: every path outside ``OPEN_PATHS`` needs ``Authorization: Bearer <--api-key>``."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        from starlette.datastructures import Headers
        from starlette.responses import JSONResponse

        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self.service.authorized(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        self.service.metrics.requests.inc(endpoint=scope["path"] if scope["path"] in KNOWN_PATHS else "other", status="401")
        response = JSONResponse(
            {"error": "missing or wrong API key: send 'Authorization: Bearer <key>'."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


def create_app(runner: Runner, metadata: dict[str, Any], settings: ServeSettings | None = None):
    """A Starlette app serving ``runner``; the batcher starts and drains with the app's lifespan."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    service = Service(runner, metadata, settings or ServeSettings())

    async def predict(request: Request) -> Response:
        return await service.answer(request, "/predict", lambda: service.predict(request))

    async def health(request: Request) -> JSONResponse:
        ready = service.ready
        service.metrics.requests.inc(endpoint="/health", status="200" if ready else "503")
        return JSONResponse(
            {"status": "ok" if ready else "draining", "queue_depth": service.batcher.depth, "worker": service.worker["index"]},
            status_code=200 if ready else 503,
        )

    async def metadata_route(request: Request) -> JSONResponse:
        service.metrics.requests.inc(endpoint="/metadata", status="200")
        info = service.runner.info
        return JSONResponse(
            {
                "model": public_metadata(service.metadata),
                "runtime": {"name": info.runtime, "device": info.device, "precision": info.precision},
                "input": {"name": service.runner.input_spec.name, "shape": list(service.runner.input_spec.shape)},
                "serving": {
                    **service.settings.to_dict(),
                    "effective_max_batch": service.batcher.max_batch,
                    "workers": service.worker["of"],
                    "threads_per_worker": service.worker["threads"],
                },
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
            service.draining = True
            log.info("draining %d queued image(s) before shutdown", service.batcher.depth)
            await asyncio.to_thread(service.batcher.close, service.settings.drain_timeout_s)

    from lsnet.serve.v2 import v2_routes

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metadata", metadata_route, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *v2_routes(service),
        ],
        middleware=[Middleware(BearerAuth, service=service)],
        lifespan=lifespan,
    )
    app.state.service = service
    return app
