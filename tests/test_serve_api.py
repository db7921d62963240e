"""``lsnet serve`` end to end: a real uvicorn server on loopback serving lsnet_t (conformance weights)."""
import asyncio
import json
import re

import httpx
import numpy as np
import pytest
from serve_support import FixedBatchRunner, image_bytes, running_server

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

MAX_BODY_MB = 0.25


@pytest.fixture(scope="module")
def runner(lsnet_t_runner):
    return lsnet_t_runner


@pytest.fixture(scope="module")
def metadata(runner):
    from lsnet.serve.settings import serving_metadata

    return serving_metadata(runner, None)


@pytest.fixture(scope="module")
def server(runner, metadata):
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings

    app = create_app(runner, metadata, ServeSettings(max_batch=8, max_wait_ms=5, queue_size=32, max_body_mb=MAX_BODY_MB, top=5))
    with running_server(app) as (url, _):
        yield url


def expected_top1(runner, metadata, data: bytes) -> int:
    from lsnet.preprocess import load_image, preprocess_from_metadata

    return int(runner.infer(preprocess_from_metadata(load_image(data), metadata)[None]).argmax())


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent)."""
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name + ("{" + label_text + "}" if labels else "")) + r" (\S+)"
    found = re.search("^" + pattern + "$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_single_image_returns_topk_softmax_matching_the_model(server, runner, metadata) -> None:
    data = image_bytes(1)
    r = httpx.post(f"{server}/predict", content=data, headers={"content-type": "image/jpeg"}, timeout=30)
    assert r.status_code == 200, r.text
    (pred,) = r.json()["predictions"]
    scores = [t["probability"] for t in pred["top"]]
    assert len(pred["top"]) == 5 and scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0 + 1e-6
    assert pred["top"][0]["index"] == expected_top1(runner, metadata, data)
    assert all(isinstance(t["label"], str) and t["label"] for t in pred["top"])


def test_predict_cli_and_serve_answer_in_one_json_schema(server, lsnet_t_checkpoint, tmp_path) -> None:
    from cli_helpers import run_cli

    path = tmp_path / "cat.png"
    path.write_bytes(image_bytes(7, "PNG"))
    proc = run_cli("predict", str(lsnet_t_checkpoint), str(path), "--json", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    (from_cli,) = json.loads(proc.stdout)
    r = httpx.post(f"{server}/predict", content=path.read_bytes(), headers={"content-type": "image/png"}, timeout=30)
    (from_serve,) = r.json()["predictions"]
    assert set(from_cli) == set(from_serve) == {"image", "top"}
    assert from_cli["image"] == str(path) and from_serve["image"] == "image 0"
    for entry in from_cli["top"] + from_serve["top"][:3]:
        assert set(entry) == {"index", "label", "probability"}
    assert [t["index"] for t in from_cli["top"]] == [t["index"] for t in from_serve["top"][:3]]
    assert [t["label"] for t in from_cli["top"]] == [t["label"] for t in from_serve["top"][:3]]
    np.testing.assert_allclose([t["probability"] for t in from_cli["top"]], [t["probability"] for t in from_serve["top"][:3]], rtol=1e-4)


def test_multipart_batch_answers_each_file_in_order(server, runner, metadata) -> None:
    files = [("files", (f"img{i}.{fmt.lower()}", image_bytes(10 + i, fmt), f"image/{fmt.lower()}"))
             for i, fmt in enumerate(["JPEG", "PNG", "JPEG"])]
    r = httpx.post(f"{server}/predict", files=files, timeout=30)
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert [p["image"] for p in preds] == ["img0.jpeg", "img1.png", "img2.jpeg"]
    assert [p["top"][0]["index"] for p in preds] == [expected_top1(runner, metadata, f[1][1]) for f in files]


def test_concurrent_requests_each_get_their_own_answer(server, runner, metadata) -> None:
    images = [image_bytes(100 + i) for i in range(16)]
    expected = [expected_top1(runner, metadata, d) for d in images]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(client.post(f"{server}/predict", content=d, headers={"content-type": "image/png"}) for d in images)
            )

    responses = asyncio.run(fire())
    assert [r.status_code for r in responses] == [200] * 16
    assert [r.json()["predictions"][0]["top"][0]["index"] for r in responses] == expected


@pytest.mark.parametrize(
    "body, content_type, status, words",
    [
        (b"definitely not an image", "image/jpeg", 400, "not a readable image"),
        (b"", "image/png", 400, "empty request body"),
        (b'{"image": "..."}', "application/json", 415, "unsupported content type"),
        (b"x" * int(MAX_BODY_MB * 1048576 + 10), "image/jpeg", 413, "larger than"),
        (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b--\r\n", "multipart/form-data; boundary=b", 400, "no files"),
    ],
    ids=["not-image", "empty", "wrong-type", "too-large", "empty-form"],
)
def test_bad_requests_get_a_4xx_json_error(server, body: bytes, content_type: str, status: int, words: str) -> None:
    r = httpx.post(f"{server}/predict", content=body, headers={"content-type": content_type}, timeout=30)
    assert r.status_code == status
    assert words in r.json()["error"]


def test_health_metadata_and_method_checks(server) -> None:
    assert httpx.get(f"{server}/health").json()["status"] == "ok"
    meta = httpx.get(f"{server}/metadata").json()
    assert meta["model"]["variant"] == "lsnet_t" and meta["input"]["shape"] == [None, 3, 224, 224]
    assert meta["serving"]["max_batch"] == 8 and meta["runtime"]["name"] == "pytorch"
    assert httpx.get(f"{server}/predict").status_code == 405


def test_metrics_count_requests_by_status_and_images(server) -> None:
    before = httpx.get(f"{server}/metrics").text
    httpx.post(f"{server}/predict", content=image_bytes(7), headers={"content-type": "image/jpeg"}, timeout=30)
    httpx.post(f"{server}/predict", content=b"nope", headers={"content-type": "text/plain"}, timeout=30)
    response = httpx.get(f"{server}/metrics")
    after = response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    ok, bad = dict(endpoint="/predict", status="200"), dict(endpoint="/predict", status="415")
    assert metric(after, "lsnet_requests_total", **ok) == metric(before, "lsnet_requests_total", **ok) + 1
    assert metric(after, "lsnet_requests_total", **bad) == metric(before, "lsnet_requests_total", **bad) + 1
    assert metric(after, "lsnet_images_total") == metric(before, "lsnet_images_total") + 1
    assert metric(after, "lsnet_batch_size_count") >= metric(before, "lsnet_batch_size_count") + 1
    assert metric(after, "lsnet_request_latency_seconds_count") == metric(before, "lsnet_request_latency_seconds_count") + 2
    assert 'lsnet_batch_size_bucket{le="+Inf"}' in after and "lsnet_queue_depth 0" in after


def test_fixed_batch_artifact_is_served_with_padding(runner, metadata) -> None:
    from lsnet.serve.app import create_app

    fixed = FixedBatchRunner(runner, batch=4)
    with running_server(create_app(fixed, metadata)) as (url, _):
        files = [("f", (f"{i}.png", image_bytes(i, "PNG"), "image/png")) for i in range(3)]
        r = httpx.post(f"{url}/predict", files=files, timeout=30)
    assert r.status_code == 200 and len(r.json()["predictions"]) == 3
    assert fixed.seen and set(fixed.seen) == {4}


def test_onnx_artifact_is_served_with_its_sidecar_preprocessing(lsnet_t_checkpoint, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    from lsnet.export import export
    from lsnet.preprocess import load_image, preprocess_from_metadata
    from lsnet.runtimes.registry import open_runner
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import serving_metadata

    artifact = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, img_size=128, output=tmp_path / "t128.onnx").path
    data = image_bytes(21, "PNG", size=(200, 90))
    with open_runner(artifact) as runner:
        metadata = serving_metadata(runner, artifact)
        assert metadata["img_size"] == [128, 128] and metadata["weights_sha256"]
        expected = int(runner.infer(preprocess_from_metadata(load_image(data), metadata)[None]).argmax())
        with running_server(create_app(runner, metadata)) as (url, _):
            r = httpx.post(f"{url}/predict", content=data, headers={"content-type": "image/png"}, timeout=30)
            meta = httpx.get(f"{url}/metadata").json()
    assert r.status_code == 200 and r.json()["predictions"][0]["top"][0]["index"] == expected
    assert meta["runtime"]["name"] == "onnxruntime" and meta["input"]["shape"] == [None, 3, 128, 128]
