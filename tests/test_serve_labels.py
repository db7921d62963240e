"""``lsnet serve --labels``: the served names come from the labels file, checked against the model's outputs."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lsnet.errors import LsnetError

pytest.importorskip("starlette")
REPO = Path(__file__).resolve().parents[1]


def test_labels_replace_the_served_names(lsnet_t_checkpoint: Path) -> None:
    from starlette.testclient import TestClient

    from lsnet.serve.workers import WorkerSpec, build_app
    from serve_support import image_bytes

    names = tuple(f"my class {i}" for i in range(1000))
    runner, app = build_app(WorkerSpec(str(lsnet_t_checkpoint), labels=names))
    try:
        with TestClient(app) as client:
            r = client.post("/predict", content=image_bytes(1), headers={"content-type": "image/jpeg"})
            assert r.status_code == 200
            top = r.json()["predictions"][0]["top"][0]
            assert top["label"] == names[top["index"]]
            assert client.get("/metadata").json()["model"]["labels"] == list(names)
    finally:
        runner.close()


def test_labels_of_the_wrong_length_are_one_error(lsnet_t_checkpoint: Path) -> None:
    from lsnet.serve.workers import WorkerSpec, build_app

    with pytest.raises(LsnetError, match="--labels has 3 names but the model has 1000 classes"):
        build_app(WorkerSpec(str(lsnet_t_checkpoint), labels=("a", "b", "c")))


def test_cli_refuses_a_missing_labels_file_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    missing = tmp_path / "labels.txt"
    out = subprocess.run(
        [sys.executable, "-m", "lsnet.cli", "serve", "lsnet_t", "--labels", str(missing), "--port", "0"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == [f"error: labels file not found: {missing}. Pass a text file with one class name per line or a JSON list."]
