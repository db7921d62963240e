"""MicroBatcher: batch formation, bounded queue, atomic submit, drain on close, one answer per image."""
import threading
import time

import numpy as np
import pytest

from lsnet.serve.batching import BatcherClosedError, MicroBatcher, QueueFullError


class GatedInfer:
    """An infer function that blocks until released and records batch sizes; logits = per-image sums."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.batches: list[int] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        self.started.set()
        assert self.gate.wait(10)
        return batch.reshape(len(batch), -1).sum(axis=1, keepdims=True)


def images(n: int, offset: int = 0) -> np.ndarray:
    return np.arange(offset, offset + n, dtype=np.float32).reshape(n, 1, 1, 1) * np.ones((1, 3, 2, 2), np.float32)


def test_batches_form_while_the_runner_is_busy_and_results_map_back() -> None:
    infer = GatedInfer()
    batcher = MicroBatcher(infer, max_batch=4, max_wait_s=0.0, queue_size=16)
    batcher.start()
    first = batcher.submit(images(1))
    assert infer.started.wait(5)
    rest = batcher.submit(images(6, offset=1))  # queued while the first batch runs
    assert batcher.depth == 6
    infer.gate.set()
    results = [f.result(5)[0] for f in first + rest]
    batcher.close(5)
    assert infer.batches == [1, 4, 2]
    assert results == [12.0 * i for i in range(7)]  # 3*2*2 pixels of value i


def test_full_queue_rejects_the_whole_request_atomically() -> None:
    infer = GatedInfer()
    batcher = MicroBatcher(infer, max_batch=1, max_wait_s=0.0, queue_size=3)
    batcher.start()
    batcher.submit(images(1))
    assert infer.started.wait(5)
    queued = batcher.submit(images(2))
    with pytest.raises(QueueFullError):
        batcher.submit(images(2))  # 2 + 2 > 3: nothing of it is queued
    assert batcher.depth == 2
    infer.gate.set()
    assert [f.result(5)[0] for f in queued] == [0.0, 12.0]
    batcher.close(5)


def test_max_wait_collects_images_arriving_shortly_after() -> None:
    batches: list[int] = []
    batcher = MicroBatcher(lambda b: batches.append(len(b)) or b[:, :1, 0, 0], max_batch=8, max_wait_s=0.5, queue_size=8)
    batcher.start()
    futures = batcher.submit(images(1))
    time.sleep(0.05)
    futures += batcher.submit(images(2))
    assert [f.result(5)[0] for f in futures] == [0.0, 0.0, 1.0]
    batcher.close(5)
    assert batches == [3]


def test_close_drains_queued_work_then_refuses_new_work() -> None:
    infer = GatedInfer()
    batcher = MicroBatcher(infer, max_batch=2, max_wait_s=0.0, queue_size=8)
    batcher.start()
    futures = batcher.submit(images(5))
    assert infer.started.wait(5)
    closer = threading.Thread(target=batcher.close, args=(10,))
    closer.start()
    time.sleep(0.05)
    with pytest.raises(BatcherClosedError):
        batcher.submit(images(1))
    infer.gate.set()
    closer.join(10)
    assert all(f.done() for f in futures) and sum(infer.batches) == 5


def test_failed_inference_answers_every_waiting_image_with_the_error() -> None:
    def broken(batch: np.ndarray) -> np.ndarray:
        raise RuntimeError("boom")

    batcher = MicroBatcher(broken, max_batch=4, max_wait_s=0.0, queue_size=4)
    batcher.start()
    futures = batcher.submit(images(3))
    for f in futures:
        with pytest.raises(RuntimeError, match="boom"):
            f.result(5)
    batcher.close(5)


def test_fixed_batch_artifacts_get_padded_batches() -> None:
    seen: list[int] = []
    batcher = MicroBatcher(lambda b: seen.append(len(b)) or b[:, :1, 0, 0], 4, 0.0, 8, fixed_batch=4)
    batcher.start()
    assert [f.result(5)[0] for f in batcher.submit(images(2, offset=3))] == [3.0, 4.0]
    batcher.close(5)
    assert seen == [4]


def test_listening_socket_is_tcp_with_nodelay():
    """asyncio only sets TCP_NODELAY on IPPROTO_TCP sockets; without it keep-alive responses wait for delayed ACKs."""
    import socket

    from lsnet.serve.workers import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()
