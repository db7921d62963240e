"""``lsnet serve --workers N``: processes sharing one port, split threads, drain on SIGTERM, readiness while draining."""
import asyncio
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from serve_support import SlowRunner, TinyRunner, image_bytes, running_server, tiny_metadata

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def test_threads_are_split_so_workers_times_threads_fit_the_cores(monkeypatch) -> None:
    from lsnet.serve import workers

    monkeypatch.setattr(workers, "cpu_count", lambda: 8)
    assert workers.threads_per_worker(1, 0) == 0  # one process: the runtime's own default
    assert workers.threads_per_worker(2, 0) == 4 and workers.threads_per_worker(3, 0) == 2
    assert workers.threads_per_worker(16, 0) == 1  # never zero threads
    assert workers.threads_per_worker(2, 3) == 3  # --threads wins


def test_readiness_turns_false_as_soon_as_shutdown_starts_and_in_flight_work_finishes() -> None:
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings

    slow = SlowRunner(TinyRunner(), delay_s=1.0)
    app = create_app(slow, tiny_metadata(), ServeSettings(max_batch=1, drain_timeout_s=10))
    service = app.state.service
    answers: list[int] = []
    with running_server(app) as (url, server):  # a DrainingServer, as `lsnet serve` runs
        thread = threading.Thread(target=lambda: answers.append(
            httpx.post(f"{url}/predict", content=image_bytes(1, "PNG"), headers={"content-type": "image/png"}, timeout=30).status_code))
        thread.start()
        while not slow.batches:
            time.sleep(0.01)
        assert httpx.get(f"{url}/v2/health/ready").status_code == 200
        server.handle_exit(signal.SIGTERM, None)  # what uvicorn's SIGTERM handler calls
        assert not service.ready

        async def probe(path: str) -> int:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://lsnet") as client:
                return (await client.get(path)).status_code

        assert asyncio.run(probe("/v2/health/ready")) == 503 and asyncio.run(probe("/health")) == 503
        assert asyncio.run(probe("/v2/health/live")) == 200
        thread.join(30)
    assert answers == [200]


def connection_holders(url: str, connections: int) -> list[int]:
    """The worker that answers each of ``connections`` keep-alive connections opened at once."""
    clients = [httpx.Client(timeout=30) for _ in range(connections)]
    try:
        with ThreadPoolExecutor(connections) as pool:
            return list(pool.map(lambda c: c.get(f"{url}/health").json()["worker"], clients))
    finally:
        for client in clients:
            client.close()


@pytest.mark.slow
def test_two_workers_share_the_port_and_drain_on_sigterm(tmp_path) -> None:
    from lsnet.bench.loadtest import Server

    server = Server("lsnet_t", ["--workers", "2", "--img-size", "64", "--drain-timeout", "5", "--max-wait-ms", "1"])
    try:
        server.wait_ready(240)
        meta = httpx.get(f"{server.url}/metadata", timeout=10).json()["serving"]
        assert meta["workers"] == 2 and meta["threads_per_worker"] >= 1
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while seen != {0, 1} and time.monotonic() < deadline:  # a new connection each time: the kernel picks a worker
            r = httpx.get(f"{server.url}/health", timeout=10)
            if r.status_code == 200:
                seen.add(r.json()["worker"])
        assert seen == {0, 1}
        # 16 keep-alive connections opened at once are spread over both workers (one shared accept queue gave
        # 15 of 16 to one worker, every time); the kernel hashes each connection, so a round leaves a worker with
        # fewer than 2 about 1/2000 times (seen once in CI on a loaded machine): up to three rounds
        rounds = [connection_holders(server.url, 16) for _ in range(3)]
        spread = next((h for h in rounds if min(h.count(0), h.count(1)) >= 2), None)
        assert spread is not None, rounds
        r = httpx.post(f"{server.url}/predict", content=image_bytes(3), headers={"content-type": "image/jpeg"}, timeout=60)
        assert r.status_code == 200 and r.json()["model"] == "lsnet_t"
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(30) == 0
        assert time.monotonic() - start < 5 + 5 + 5  # drain timeout + the supervisor's margin + slack
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
