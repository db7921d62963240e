"""``lsnet predict`` on a generated image with a checkpoint and its ONNX export; bad images; ``lsnet demo``."""
import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_cli

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def image_png(tmp_path_factory):
    """A 300x260 RGB PNG with gradients and a disc."""
    from PIL import Image

    yy, xx = np.mgrid[0:260, 0:300]
    rgb = np.stack([xx * 255 // 300, yy * 255 // 260, ((xx - 150) ** 2 + (yy - 130) ** 2 < 60**2) * 255], axis=-1)
    path = tmp_path_factory.mktemp("images") / "sample.png"
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def top5(proc) -> list[list[int]]:
    assert proc.returncode == 0, proc.stderr
    return [[row["index"] for row in item["top"]] for item in json.loads(proc.stdout)]


def test_checkpoint_and_onnx_give_the_same_top5(lsnet_t_checkpoint, image_png, tmp_path):
    from lsnet.export import export

    onnx_path = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, output=tmp_path / "t.onnx", validate=False).path
    images = [str(image_png)] * 3  # batch size 2 -> chunks of 2 and 1
    from_pth = top5(run_cli("predict", str(lsnet_t_checkpoint), *images, "--json", "--batch-size", "2"))
    from_onnx = top5(run_cli("predict", str(onnx_path), *images, "--json", "--batch-size", "2"))
    assert from_pth == from_onnx and len(from_pth) == 3 and len(from_pth[0]) == 5
    assert from_pth[0] == from_pth[2]


def test_predict_warns_on_an_artifact_with_random_weights(lsnet_t_checkpoint, image_png, tmp_path):
    from lsnet.export import export

    random_init = export("lsnet_t", "onnx", img_size=64, output=tmp_path / "random.onnx", validate=False).path
    trained = export("lsnet_t", "onnx", img_size=64, weights=lsnet_t_checkpoint, output=tmp_path / "trained.onnx", validate=False).path
    warned = run_cli("predict", str(random_init), str(image_png))
    assert warned.returncode == 0, warned.stderr
    assert f"WARNING: {random_init} has random weights" in warned.stderr
    quiet = run_cli("predict", str(trained), str(image_png))
    assert quiet.returncode == 0 and "random weights" not in quiet.stderr


def test_fixed_batch_artifact_pads_the_last_chunk(lsnet_t_checkpoint, image_png, tmp_path):
    from lsnet.runtimes.base import infer_in_chunks
    from lsnet.runtimes.evaluate import open_classifier
    from lsnet.export import export
    from lsnet.preprocess import load_image, preprocess_from_metadata

    path = export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, batch=2, output=tmp_path / "b2.onnx", validate=False).path
    classifier = open_classifier(str(path))
    with classifier.runner as runner:
        pixels = np.stack([preprocess_from_metadata(load_image(image_png), classifier.preprocessing)] * 3)
        logits = infer_in_chunks(runner, pixels, batch_size=8)
    assert logits.shape == (3, 1000)
    np.testing.assert_allclose(logits[0], logits[2], rtol=1e-5, atol=1e-5)


def test_unreadable_image_is_one_line(tmp_path, image_png):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    proc = run_cli("predict", "lsnet_t", str(image_png), str(broken))
    assert_one_line_error(proc, "cannot read", "broken.jpg")
    assert_one_line_error(run_cli("predict", "lsnet_t", str(tmp_path / "missing.png")), "image not found")


def test_demo_runs_offline(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path), "--rounds", "1", "--min-time", "0.3", env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: lsnet_t has random weights" in proc.stderr
    assert "parity: PASSED" in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and " | 1 | " in line]
    assert [row.split(" | ")[2] for row in rows] == ["pytorch", "onnxruntime"]
    assert (tmp_path / "lsnet_t.onnx").is_file() and (tmp_path / "lsnet_t.onnx.json").is_file()


def test_missing_artifact_is_named_before_the_images(tmp_path):
    from cli_helpers import assert_one_line_error, run_cli

    proc = run_cli("predict", str(tmp_path / "missing.onnx"), str(tmp_path / "missing.jpg"))
    assert_one_line_error(proc, "artifact not found", "missing.onnx")


def test_unwritable_output_folder_is_one_line(tmp_path):
    from cli_helpers import assert_one_line_error, run_cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli("export", "lsnet_t", "-o", str(blocker / "sub" / "t.onnx"))
    assert_one_line_error(proc, "cannot write")
    assert blocker.read_text() == "not a folder"
