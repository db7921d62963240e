"""Overload, failures and shutdown of the real server: 503 at once when full, one answer per request, drain."""
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from serve_support import SlowRunner, image_bytes, running_server

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def torch_runner():
    from lsnet.runtimes.registry import open_runner

    with open_runner("lsnet_t") as r:
        yield r


def make_app(runner, **settings):
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import serving_metadata, ServeSettings

    return create_app(runner, serving_metadata(runner, None), ServeSettings(**settings))


async def burst(url: str, count: int) -> list[tuple[int, float]]:
    """``count`` concurrent single-image requests; (status, seconds) of each."""
    data = image_bytes(3)

    async def one(client: httpx.AsyncClient) -> tuple[int, float]:
        start = time.perf_counter()
        r = await client.post(f"{url}/predict", content=data, headers={"content-type": "image/jpeg"})
        assert r.headers["content-type"] == "application/json"
        return r.status_code, time.perf_counter() - start

    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        return await asyncio.gather(*(one(client) for _ in range(count)))


def test_overload_burst_gets_503_at_once_and_every_accepted_request_one_answer(torch_runner) -> None:
    slow = SlowRunner(torch_runner, delay_s=0.8)
    with running_server(make_app(slow, max_batch=2, max_wait_ms=1, queue_size=3)) as (url, _):
        results = asyncio.run(burst(url, 20))
        page = httpx.get(f"{url}/metrics").text
    statuses = [s for s, _ in results]
    ok, busy = statuses.count(200), statuses.count(503)
    assert ok + busy == 20, statuses
    assert busy > 0 and ok >= 3
    assert max(t for s, t in results if s == 503) < 0.8  # rejected without waiting for a batch
    assert sum(slow.batches) == ok and max(slow.batches) <= 2  # each accepted image ran exactly once
    assert f'lsnet_requests_total{{endpoint="/predict",status="200"}} {ok}' in page
    assert f'lsnet_requests_total{{endpoint="/predict",status="503"}} {busy}' in page


def test_inference_failure_is_a_500_json_for_each_request(torch_runner) -> None:
    broken = SlowRunner(torch_runner, delay_s=0.0, fail=True)
    with running_server(make_app(broken, max_batch=4, queue_size=8)) as (url, _):
        results = asyncio.run(burst(url, 4))
    assert [s for s, _ in results] == [500] * 4


def test_shutdown_finishes_in_flight_requests(torch_runner) -> None:
    slow = SlowRunner(torch_runner, delay_s=0.3)
    answers: list[int] = []

    def client(url: str) -> None:
        r = httpx.post(f"{url}/predict", content=image_bytes(5), headers={"content-type": "image/jpeg"}, timeout=30)
        answers.append(r.status_code)

    with running_server(make_app(slow, max_batch=1, queue_size=16)) as (url, server):
        threads = [threading.Thread(target=client, args=(url,)) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while (not slow.batches or len(server.server_state.tasks) < 4) and time.monotonic() < deadline:
            time.sleep(0.01)  # until all four requests are in the server and one is running
        server.should_exit = True  # leaving the block joins the server thread
    for t in threads:
        t.join(10)
    assert answers == [200] * 4 and sum(slow.batches) == 4


def test_cli_serves_and_stops_cleanly_on_sigint() -> None:
    from lsnet.bench.loadtest import Server  # the load test's own server handle: `lsnet serve` on a free loopback port

    server = Server(Path("lsnet_t"), ["--max-batch", "4"])
    try:
        server.wait_ready(60)
        assert httpx.get(f"{server.url}/health", timeout=5).json()["status"] == "ok"
        r = httpx.post(f"{server.url}/predict", content=image_bytes(1), headers={"content-type": "image/jpeg"}, timeout=30)
        assert r.status_code == 200 and r.json()["model"] == "lsnet_t"
    finally:
        assert server.stop() == 0


def test_cli_rejects_bad_settings_in_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "lsnet.cli", "serve", "lsnet_t", "--max-batch", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == ["error: --max-batch must be >= 1, got 0."]


def test_cli_refuses_a_port_in_use_in_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "lsnet.cli", "serve", "lsnet_t", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60
        )
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{port} (Address already in use); choose another --port or --host."]
