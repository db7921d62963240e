"""``lsnet serve`` against hostile but legitimate clients: huge images, slow clients, disconnects, auth, metadata."""
import asyncio
import io
import logging
import socket
import threading
import time

import httpx
import pytest
from serve_support import TinyRunner, image_bytes, running_server, tiny_metadata

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def make_app(metadata: dict | None = None, **settings):
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings

    return create_app(TinyRunner(), metadata or tiny_metadata(), ServeSettings(**settings))


def huge_png(width: int, height: int) -> bytes:
    """A small file whose header declares width x height pixels (1-bit, compresses to almost nothing)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, format="PNG")
    return buf.getvalue()


def post(url: str, data: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/predict", content=data, headers={"content-type": "image/png", **headers}, timeout=30)


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def trickle(sock: socket.socket, byte: bytes, times: int, interval_s: float = 0.1) -> None:
    """Send ``byte`` ``times`` times, ``interval_s`` apart, until the server closes the connection."""
    for _ in range(times):
        try:
            sock.sendall(byte)
        except OSError:
            return
        time.sleep(interval_s)


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``sock`` within ``seconds`` (reading everything it sent)."""
    sock.settimeout(0.1)
    received, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_too_many_pixels_is_refused_from_the_header_before_decoding(monkeypatch) -> None:
    """(a 94 KB 10000x10000 PNG used to cost ~470 MB and seconds of CPU per request)"""
    import lsnet.preprocess

    decoded: list[int] = []
    real_load = lsnet.preprocess.load_image
    monkeypatch.setattr(lsnet.preprocess, "load_image", lambda source: decoded.append(1) or real_load(source))
    data = huge_png(10_000, 10_000)
    assert len(data) < 200_000  # a tiny upload that would decode to 100 MP
    with running_server(make_app()) as (url, _):
        r = post(url, data)
        assert r.status_code == 413 and "10000x10000" in r.json()["error"] and "--max-pixels" in r.json()["error"]
        assert decoded == []
        assert post(url, image_bytes(1, "PNG")).status_code == 200 and decoded == [1]
        assert post(url, huge_png(15_000, 15_000)).status_code == 413  # beyond PIL's own bomb limit: still 413
    with running_server(make_app(max_pixels=100 * 100)) as (url, _):
        assert post(url, image_bytes(1, "PNG", size=(160, 120))).status_code == 413
        assert post(url, image_bytes(1, "PNG", size=(100, 100))).status_code == 200


def test_decoding_runs_at_most_decode_concurrency_requests_at_a_time(monkeypatch) -> None:
    import lsnet.runtimes.predictions as predictions

    active, peak, lock = [0], [0], threading.Lock()
    real_decode = predictions.decode_image

    def slow_decode(*args, **kwargs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        try:
            return real_decode(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(predictions, "decode_image", slow_decode)

    async def burst(url: str) -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            data = image_bytes(2, "PNG")
            rs = await asyncio.gather(*(client.post(f"{url}/predict", content=data, headers={"content-type": "image/png"}) for _ in range(8)))
            return [r.status_code for r in rs]

    with running_server(make_app(decode_concurrency=2)) as (url, _):
        assert asyncio.run(burst(url)) == [200] * 8
    assert peak[0] == 2


def test_a_client_trickling_headers_is_cut_off() -> None:
    with running_server(make_app(read_timeout_s=0.6)) as (url, _):
        sock = connect(url)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        trickle(sock, b"X", 8)  # one header byte every 0.1 s: never a complete request head before the timeout
        closed, _ = closed_within(sock, 3.0)
        sock.close()
        assert closed and time.monotonic() - start < 3.0
        assert post(url, image_bytes(1, "PNG")).status_code == 200  # the server is fine


def test_a_slow_body_gets_408_and_the_connection_is_freed() -> None:
    with running_server(make_app(read_timeout_s=0.6)) as (url, _):
        sock = connect(url)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n")
        trickle(sock, b"x", 12)
        closed, received = closed_within(sock, 3.0)
        sock.close()
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        page = httpx.get(f"{url}/metrics").text
    assert 'lsnet_requests_total{endpoint="/predict",status="408"} 1' in page


def test_connections_beyond_the_cap_get_503() -> None:
    with running_server(make_app(max_connections=4)) as (url, _):
        idle = [connect(url) for _ in range(4)]
        time.sleep(0.2)
        try:
            assert post(url, image_bytes(1, "PNG")).status_code == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.2)
        assert post(url, image_bytes(1, "PNG")).status_code == 200


def test_a_slow_upload_does_not_hold_shutdown_beyond_the_drain_timeout() -> None:
    stop = threading.Event()

    def trickle(url: str) -> None:
        sock = connect(url)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                sock.sendall(b"x")
            except OSError:
                break
            time.sleep(0.05)
        sock.close()

    with running_server(make_app(read_timeout_s=60, drain_timeout_s=1.0)) as (url, server):
        thread = threading.Thread(target=trickle, args=(url,), daemon=True)
        thread.start()
        time.sleep(0.5)
        start = time.monotonic()
        server.should_exit = True  # leaving the block waits for the server thread to end
    took = time.monotonic() - start
    stop.set()
    thread.join(5)
    assert took < 4.0, f"shutdown took {took:.1f} s with a 1 s drain timeout"


def test_a_client_disconnect_is_counted_apart_and_logged_in_one_line(caplog) -> None:
    caplog.set_level(logging.INFO)
    with running_server(make_app()) as (url, _):
        sock = connect(url)
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n" + b"x" * 100)
        time.sleep(0.2)
        sock.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and 'status="499"' not in (page := httpx.get(f"{url}/metrics").text):
            time.sleep(0.05)
    assert 'lsnet_requests_total{endpoint="/predict",status="499"} 1' in page
    assert 'status="500"' not in page
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None and lines[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_metadata_publishes_no_local_paths_or_tool_versions() -> None:
    secret = tiny_metadata(
        weights="/home/alice/private/run42/lsnet_t.pth", weights_sha256="ab" * 32,
        versions={"lsnet": "0.1.0", "torch": "2.13.0", "onnxruntime": "1.22.0", "python": "3.11.7"},
    )
    with running_server(make_app(secret)) as (url, _):
        r = httpx.get(f"{url}/metadata")
    text = r.text
    assert r.status_code == 200 and "/home/alice" not in text and "lsnet_t.pth" not in text
    assert "versions" not in text and "2.13.0" not in text and "3.11.7" not in text
    model = r.json()["model"]
    assert model["num_classes"] == 10 and model["mean"] == [0.485, 0.456, 0.406] and model["random_init"] is False


def test_api_key_is_required_everywhere_but_the_health_probes() -> None:
    with running_server(make_app(api_key="s3cret-token")) as (url, _):
        data = image_bytes(1, "PNG")
        assert post(url, data).status_code == 401
        assert post(url, data, authorization="Bearer wrong").status_code == 401
        assert post(url, data, authorization="Basic s3cret-token").status_code == 401
        ok = post(url, data, authorization="Bearer s3cret-token")
        assert ok.status_code == 200 and ok.json()["predictions"][0]["top"]
        assert httpx.get(f"{url}/metadata").status_code == 401
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/health").status_code == 200
        meta = httpx.get(f"{url}/metadata", headers={"authorization": "Bearer s3cret-token"}).json()
        assert meta["serving"]["api_key"] is True and "s3cret" not in str(meta)


def test_api_key_comes_from_the_environment(monkeypatch) -> None:
    from cli_helpers import run_cli

    proc = run_cli("serve", "--help")
    assert "LSNET_API_KEY" in proc.stdout and "--max-pixels" in proc.stdout and "--drain-timeout" in proc.stdout
    proc = run_cli("serve", "lsnet_t", "--max-connections", "0", env={"LSNET_API_KEY": " "})
    assert proc.returncode != 0 and proc.stderr.strip().splitlines()[-1].startswith("error: --max-connections must be >= 1")
    proc = run_cli("serve", "lsnet_t", env={"LSNET_API_KEY": " "})
    assert proc.returncode != 0 and "LSNET_API_KEY" in proc.stderr and "empty" in proc.stderr

