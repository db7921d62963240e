"""``--eval FOLDER`` in the export gates: held-out accuracy beside parity, in the sidecar; bad folders fail first."""
import json
import shutil
import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_cli

pytest.importorskip("onnxruntime")

LABELS = ("cat", "dog", "owl")


def small_model():
    from lsnet import create_model

    return create_model("lsnet_t", num_classes=len(LABELS), img_size=64)


def image_folder(root, classes: dict[str, int]):
    """``root/<class>/<i>.png`` with the given number of random images per class."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize(
    "layout, message",
    [
        (None, "image folder not found"),
        ({}, "has no class subfolders"),
        ({"cat": 1, "zebra": 1}, "class folder 'zebra' is not one of the model's labels"),
        ({"cat": 0, "dog": 0}, "has no images"),
    ],
)
def test_bad_eval_folder_is_one_clear_error_before_any_work(tmp_path, layout, message) -> None:
    from lsnet.errors import LsnetError
    from lsnet.export import export

    folder = tmp_path / "eval"
    if layout is not None:
        folder.mkdir()
        image_folder(folder, layout)
    out = tmp_path / "out" / "m.onnx"
    out.parent.mkdir()
    with pytest.raises(LsnetError, match=message):
        export(small_model(), "onnx", output=out, labels=list(LABELS), eval_folder=folder)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("drop", [-1.0, 101.0])
def test_bad_max_accuracy_drop_is_one_clear_error(tmp_path, drop) -> None:
    from lsnet.errors import UnknownOptionError
    from lsnet.export import export

    with pytest.raises(UnknownOptionError, match="--max-accuracy-drop .* must be between 0 and 100"):
        export(small_model(), "onnx", output=tmp_path / "m.onnx", max_accuracy_drop=drop)
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_eval_folder_is_one_line_and_writes_nothing(tmp_path) -> None:
    proc = run_cli("export", "lsnet_t", "--img-size", "64", "--eval", str(tmp_path / "missing"), "-o", str(tmp_path / "m.onnx"))
    assert_one_line_error(proc, "image folder not found", "missing")
    assert list(tmp_path.iterdir()) == []


def test_accuracy_failures_name_the_drop_and_the_agreement() -> None:
    from lsnet.export.accuracy import accuracy_failures

    report = {"top1": 0.75, "reference_top1": 0.78, "top1_agreement": 0.9, "reference": "PyTorch FP32"}
    assert accuracy_failures(report, 5.0, None) == []
    drop, agree = accuracy_failures(report, 1.0, 0.95)
    assert "3.0 points below PyTorch FP32's 78.0%" in drop and "--max-accuracy-drop 1" in drop
    assert "agreement with PyTorch FP32 0.900 < 0.95" in agree


@pytest.mark.slow
def test_fp32_export_records_held_out_accuracy_in_the_sidecar(trained_dir, tmp_path) -> None:
    from lsnet.export import export

    subset = tmp_path / "heldout"
    for name in ("coins", "brick", "rocket"):  # coins is label 9 but folder 2 of 3: only a match by name scores it
        (subset / name).mkdir(parents=True)
        for image in sorted((trained_dir / "heldout" / name).iterdir())[:4]:
            shutil.copy(image, subset / name / image.name)
    result = export("lsnet_t", "onnx", weights=trained_dir / "lsnet_t_photos10.pth", labels=trained_dir / "labels.txt",
                    output=tmp_path / "m.onnx", eval_folder=subset)
    accuracy = json.loads(result.sidecar.read_text())["accuracy"]
    assert accuracy["images"] == 12 and accuracy["classes_matched_by"] == "name" and accuracy["passed"]
    assert accuracy["top1"] > 0.5 and abs(accuracy["top1"] - accuracy["reference_top1"]) <= 1 / 12
    assert accuracy["top1_agreement"] >= 11 / 12
