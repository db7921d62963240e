"""``lsnet serve --ray``: the same app as a Ray Serve deployment on a local Ray instance on loopback.

Ray is heavy (an ~80 MB wheel plus its dependencies): it is in the ``ray`` and ``test`` extras, not in ``all``. The
test skips only where Ray is not installed or cannot start.
"""
import asyncio
import socket
import time

import httpx
import pytest
from serve_support import image_bytes

pytest.importorskip("starlette")
ray = pytest.importorskip("ray", reason='Ray is not installed: pip install "lsnet[ray]"')
ray_serve = pytest.importorskip("ray.serve", reason='Ray Serve is not installed: pip install "lsnet[ray]"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_ray():
    from lsnet.serve.ray_serve import start_local_ray

    try:
        start_local_ray(ray)
    except Exception as exc:  # noqa: BLE001 - any failure to start Ray is a reason to skip, not a test failure
        pytest.skip(f"Ray cannot start here: {type(exc).__name__}: {exc}")
    yield
    ray_serve.shutdown()
    ray.shutdown()


def test_settings_become_deployment_options() -> None:
    from lsnet.errors import UnknownOptionError
    from lsnet.serve.ray_serve import RaySettings

    assert RaySettings(replicas=3).deployment_options()["num_replicas"] == 3
    auto = RaySettings(min_replicas=1, max_replicas=4, target_ongoing_requests=2).deployment_options()
    assert "num_replicas" not in auto and auto["autoscaling_config"] == {
        "min_replicas": 1, "max_replicas": 4, "initial_replicas": 1, "target_ongoing_requests": 2}
    with pytest.raises(UnknownOptionError):
        RaySettings(min_replicas=1)
    with pytest.raises(UnknownOptionError):
        RaySettings(min_replicas=5, max_replicas=2)


def test_ray_serve_answers_like_lsnet_serve_and_shuts_down(local_ray, lsnet_t_checkpoint) -> None:
    from lsnet.serve.ray_serve import RaySettings, application
    from lsnet.serve.settings import ServeSettings
    from lsnet.serve.workers import WorkerSpec, build_app

    spec = WorkerSpec(str(lsnet_t_checkpoint), settings=ServeSettings(max_batch=4, top=3))
    port = free_port()
    ray_serve.start(http_options={"host": "127.0.0.1", "port": port})
    ray_serve.run(application(spec, RaySettings(replicas=1, name="lsnet_test")), name="lsnet_test", route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    data = image_bytes(4, "JPEG", size=(240, 200))
    deadline = time.monotonic() + 120
    while True:
        try:
            r = httpx.post(f"{url}/predict", content=data, headers={"content-type": "image/jpeg"}, timeout=60)
            if r.status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "Ray Serve did not answer in time"
        time.sleep(0.5)
    assert httpx.get(f"{url}/v2/health/ready", timeout=30).status_code == 200

    runner, app = build_app(spec)  # the same request, answered by one machine's lsnet serve app

    async def local() -> dict:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://lsnet") as client:
                return (await client.post("/predict", content=data, headers={"content-type": "image/jpeg"})).json()

    try:
        expected = asyncio.run(local())
    finally:
        runner.close()
    got = r.json()
    assert [t["index"] for t in got["predictions"][0]["top"]] == [t["index"] for t in expected["predictions"][0]["top"]]
    assert got["predictions"][0]["top"][0]["probability"] == pytest.approx(expected["predictions"][0]["top"][0]["probability"], rel=1e-4)
    ray_serve.delete("lsnet_test")
    ray_serve.shutdown()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=5)
