"""The Open Inference Protocol (KServe v2) on ``lsnet serve``, driven by the real ``tritonclient[http]`` client."""
import json

import httpx
import numpy as np
import pytest
from serve_support import image_bytes, running_server

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
http = pytest.importorskip("tritonclient.http", reason="tritonclient[http] is not installed: pip install \"lsnet[triton-server]\"")


@pytest.fixture(scope="module")
def runner(lsnet_t_runner):
    return lsnet_t_runner


@pytest.fixture(scope="module")
def served(runner):
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings, serving_metadata

    metadata = serving_metadata(runner, None)
    with running_server(create_app(runner, metadata, ServeSettings(max_batch=4, queue_size=8))) as (url, _):
        yield url, metadata


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("v2") / "photo.jpg"
    path.write_bytes(image_bytes(21, "JPEG", size=(256, 200)))
    return path


@pytest.fixture(scope="module")
def predicted(lsnet_t_checkpoint, photo):
    """``lsnet predict --json`` on the photo: the reference answer."""
    from cli_helpers import run_cli

    proc = run_cli("predict", str(lsnet_t_checkpoint), str(photo), "--json", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)
    return item["top"]


def client_for(url: str):
    return http.InferenceServerClient(url.removeprefix("http://"), network_timeout=60.0, connection_timeout=30.0)


def pixels(photo, metadata) -> np.ndarray:
    from lsnet.preprocess import load_image, preprocess_from_metadata

    return preprocess_from_metadata(load_image(photo), metadata)[None]


def test_health_and_model_metadata(served) -> None:
    url, _ = served
    client = client_for(url)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("lsnet_t") and not client.is_model_ready("resnet50")
    meta = client.get_model_metadata("lsnet_t")
    assert meta["name"] == "lsnet_t" and meta["versions"] == ["1"]
    assert {i["name"]: i["shape"] for i in meta["inputs"]} == {"input": [-1, 3, 224, 224], "image": [-1]}
    assert meta["outputs"] == [{"name": "logits", "datatype": "FP32", "shape": [-1, 1000]}]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tensor_input_gives_the_top1_of_lsnet_predict(served, photo, predicted, binary) -> None:
    url, metadata = served
    x = pixels(photo, metadata)
    inp = http.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    out = http.InferRequestedOutput("logits", binary_data=binary)
    logits = client_for(url).infer("lsnet_t", [inp], outputs=[out]).as_numpy("logits")
    assert logits.shape == (1, 1000)
    assert int(logits[0].argmax()) == predicted[0]["index"]


def test_bytes_input_gives_the_top1_of_lsnet_predict(served, photo, predicted) -> None:
    url, _ = served
    data = np.array([photo.read_bytes(), photo.read_bytes()], dtype=np.object_)
    inp = http.InferInput("image", [2], "BYTES")
    inp.set_data_from_numpy(data, binary_data=True)
    result = client_for(url).infer("lsnet_t", [inp])  # no outputs named: binary logits
    logits = result.as_numpy("logits")
    assert logits.shape == (2, 1000) and [int(r.argmax()) for r in logits] == [predicted[0]["index"]] * 2


def test_classification_extension_answers_score_index_label(served, photo, predicted) -> None:
    url, _ = served
    inp = http.InferInput("image", [1], "BYTES")
    inp.set_data_from_numpy(np.array([photo.read_bytes()], dtype=np.object_), binary_data=True)
    out = http.InferRequestedOutput("logits", class_count=3)
    (row,) = client_for(url).infer("lsnet_t", [inp], outputs=[out]).as_numpy("logits")
    parsed = [entry.decode().split(":", 2) for entry in row]
    assert [int(index) for _, index, _ in parsed] == [t["index"] for t in predicted]
    assert [label for _, _, label in parsed] == [t["label"] for t in predicted]
    values = [float(v) for v, _, _ in parsed]  # Triton answers the output's value: here the logit
    assert values == sorted(values, reverse=True)
    probabilities = np.exp(np.array(values) - values[0])  # softmax ratios between the top classes
    np.testing.assert_allclose(probabilities, [t["probability"] / predicted[0]["probability"] for t in predicted], rtol=1e-3)


def test_bad_requests_are_clear_errors(served) -> None:
    from tritonclient.utils import InferenceServerException

    url, _ = served
    client = client_for(url)
    wrong = http.InferInput("input", [1, 3, 100, 100], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 3, 100, 100), np.float32))
    with pytest.raises(InferenceServerException, match=r"FP32 \[N, 3, 224, 224\]"):
        client.infer("lsnet_t", [wrong])
    with pytest.raises(InferenceServerException, match="unknown model"):
        client.infer("other", [wrong])
    junk = http.InferInput("image", [1], "BYTES")
    junk.set_data_from_numpy(np.array([b"not an image"], dtype=np.object_))
    with pytest.raises(InferenceServerException, match="not a readable image"):
        client.infer("lsnet_t", [junk])
    r = httpx.post(f"{url}/v2/models/lsnet_t/infer", content=b"{", timeout=30)
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
