"""Dynamic micro-batching: a bounded queue of images and one inference thread that forms batches."""
import collections
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from lsnet.runtimes.base import pad_batch

log = logging.getLogger(__name__)


class QueueFullError(Exception):
    """The queue has no room for the request's images; the caller answers 503 at once."""


class BatcherClosedError(Exception):
    """The service is shutting down and accepts no new work."""


@dataclass
class _Item:
    image: np.ndarray
    future: Future = field(default_factory=Future)


class MicroBatcher:
    """Collects single images into batches of at most ``max_batch``, waiting at most ``max_wait_s``.

    ``submit`` is atomic: either every image of a request is queued or none is. One thread
    calls ``infer`` (numpy batch in, logits out), so the runner is never used concurrently.
    ``fixed_batch`` pads every batch to that size for artifacts exported with a fixed batch.
    """

    def __init__(
        self,
        infer: Callable[[np.ndarray], np.ndarray],
        max_batch: int,
        max_wait_s: float,
        queue_size: int,
        fixed_batch: int | None = None,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.infer = infer
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.queue_size = queue_size
        self.fixed_batch = fixed_batch
        self.on_batch = on_batch
        self._queue: collections.deque[_Item] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lsnet-inference", daemon=True)

    @property
    def depth(self) -> int:
        """Images waiting to be batched."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        self._thread.start()

    def submit(self, images: np.ndarray) -> list[Future]:
        """Queue every image of ``images`` (N, 3, H, W); one future of logits (classes,) per image."""
        items = [_Item(image) for image in images]
        with self._cond:
            if self._closed:
                raise BatcherClosedError("the service is shutting down")
            if len(self._queue) + len(items) > self.queue_size:
                raise QueueFullError(f"queue full ({len(self._queue)} of {self.queue_size} images waiting)")
            self._queue.extend(items)
            self._cond.notify()
        return [item.future for item in items]

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting work, finish everything already queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _next_batch(self) -> list[_Item]:
        """Block for the first image, then gather more until the batch is full or max_wait passed."""
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return []
            deadline = time.monotonic() + self.max_wait_s
            while len(self._queue) < self.max_batch and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = min(self.max_batch, len(self._queue))
            return [self._queue.popleft() for _ in range(count)]

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                return  # closed and drained
            live = [item for item in batch if item.future.set_running_or_notify_cancel()]
            if live:
                self._run_batch(live)

    def _run_batch(self, items: list[_Item]) -> None:
        images = pad_batch(np.stack([item.image for item in items]), self.fixed_batch)
        start = time.perf_counter()
        try:
            logits = np.asarray(self.infer(images))[: len(items)]
        except Exception as exc:  # every waiting request gets exactly one answer, also on failure
            log.exception("inference failed for a batch of %d", len(items))
            for item in items:
                item.future.set_exception(exc)
            return
        if self.on_batch:
            self.on_batch(len(items), time.perf_counter() - start)
        for item, row in zip(items, logits):
            item.future.set_result(row)
