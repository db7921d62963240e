"""Helpers for the service tests: a real uvicorn server on a free loopback port, test images, a slow runner."""
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo


def image_bytes(seed: int, fmt: str = "JPEG", size: tuple[int, int] = (160, 120)) -> bytes:
    """A small structured RGB image (gradients + a seeded rectangle) encoded as ``fmt``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 127 // (w + h)], axis=-1).astype(np.uint8)
    x0, y0 = rng.integers(0, w // 2), rng.integers(0, h // 2)
    img[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.integers(0, 256, 3)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt)
    return buf.getvalue()


class SlowRunner(Runner):
    """Wraps a runner, sleeping ``delay_s`` per batch and recording batch sizes (the overload test hook)."""

    def __init__(self, inner: Runner, delay_s: float, fail: bool = False) -> None:
        self.inner, self.delay_s, self.fail = inner, delay_s, fail
        self.input_spec = inner.input_spec
        self.info = RunnerInfo(runtime="slow-" + inner.info.runtime, device=inner.info.device)
        self.batches: list[int] = []

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("injected failure")
        return self.inner.infer(batch)


class FixedBatchRunner(Runner):
    """Wraps a runner to look like an artifact exported with a fixed batch (checks padding)."""

    def __init__(self, inner: Runner, batch: int) -> None:
        self.inner = inner
        self.input_spec = InputSpec(inner.input_spec.name, (batch, *inner.input_spec.shape[1:]))
        self.info = inner.info
        self.seen: list[int] = []

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.seen.append(len(batch))
        assert len(batch) == self.input_spec.shape[0]
        return self.inner.infer(batch)


@contextmanager
def running_server(app, **overrides) -> Iterator[tuple[str, object]]:
    """Run ``app`` under uvicorn, configured as ``lsnet serve`` does, in a thread on 127.0.0.1 (pre-bound
    free port); yield (base_url, server). ``overrides`` replace uvicorn options."""
    from lsnet.serve.server import DrainingServer, server_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(app, app.state.service.settings, "warning", **overrides)
    server = DrainingServer(config, app.state.service)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class TinyRunner(Runner):
    """A fast numpy classifier (per-channel means through a fixed matrix) for tests about the HTTP layer."""

    def __init__(self, size: int = 32, classes: int = 10) -> None:
        self.input_spec = InputSpec("input", (None, 3, size, size))
        self.info = RunnerInfo(runtime="tiny", device="cpu")
        self.weights = np.random.default_rng(0).standard_normal((3 * 4, classes)).astype(np.float32)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        n, c, h, w = batch.shape
        quadrants = batch.reshape(n, c, 2, h // 2, 2, w // 2).mean(axis=(3, 5)).reshape(n, c * 4)
        return quadrants @ self.weights


def tiny_metadata(size: int = 32, classes: int = 10, **extra) -> dict:
    """Sidecar-like metadata for ``TinyRunner``."""
    return {
        "variant": "tiny", "task": "image-classification", "num_classes": classes, "img_size": [size, size],
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "crop_pct": 0.875, "interpolation": "bilinear",
        **extra,
    }
