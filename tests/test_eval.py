"""``lsnet eval``: PyTorch, FP32 and FP16 ONNX agree on the trained fixture; bad folders are one clear line."""
import json
import shutil

import pytest
from cli_helpers import assert_one_line_error, run_cli

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def trained(trained_dir):
    return trained_dir / "lsnet_t_photos10.pth", trained_dir / "labels.txt", trained_dir / "heldout"


@pytest.fixture(scope="module")
def torch_result(trained):
    from lsnet.runtimes.evaluate import evaluate

    weights, labels, heldout = trained
    return evaluate("lsnet_t", heldout, weights=weights, labels=labels, batch=50)


@pytest.fixture(scope="module")
def onnx_models(trained, tmp_path_factory):
    from lsnet.export import export

    weights, labels, _ = trained
    folder = tmp_path_factory.mktemp("onnx")
    return {
        precision: export(
            "lsnet_t", "onnx", weights=weights, labels=labels, half=precision == "fp16",
            output=folder / f"t_{precision}.onnx", validate=False,
        ).path
        for precision in ("fp32", "fp16")
    }


def test_fp32_onnx_matches_pytorch_within_one_image(torch_result, onnx_models, trained):
    proc = run_cli("eval", str(onnx_models["fp32"]), str(trained[2]), "--json", "--batch", "50")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["images"] == torch_result.images == 300
    assert data["matched_by"] == "name"  # labels from the sidecar, folder order differs from label order
    assert abs(data["top1"] - torch_result.top1) * data["images"] <= 1
    assert 0.6 < data["top1"] <= data["top5"] <= 1.0
    assert {c["label"] for c in data["per_class"]} == set(trained[1].read_text().split())
    assert all(0 <= c["top1"] <= 1 for c in data["per_class"]) and data["confused"]


def test_fp16_onnx_within_one_point_and_compare_reports_agreement(torch_result, onnx_models, trained):
    proc = run_cli(
        "eval", str(onnx_models["fp16"]), str(trained[2]), "--json", "--batch", "50", "--compare", str(onnx_models["fp32"])
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert abs(data["top1"] - torch_result.top1) <= 0.01
    assert data["compare"]["images"] == 300 and data["compare"]["top1_agreement"] >= 0.97


def test_predict_shows_the_fixture_labels(onnx_models, trained):
    image = next((trained[2] / "brick").iterdir())
    proc = run_cli("predict", str(onnx_models["fp32"]), str(image), "--top", "3")
    assert proc.returncode == 0, proc.stderr
    names = set(trained[1].read_text().split())
    shown = [line.split()[1] for line in proc.stdout.splitlines()[1:]]
    assert len(shown) == 3 and set(shown) <= names


def _small_folder(trained, root, classes=("brick", "coins"), per_class=2):
    for name in classes:
        (root / name).mkdir(parents=True)
        for image in sorted((trained[2] / name).iterdir())[:per_class]:
            shutil.copy(image, root / name / image.name)
    return root


def test_unknown_class_folder_is_one_line(onnx_models, trained, tmp_path):
    folder = _small_folder(trained, tmp_path / "data")
    (folder / "brick").rename(folder / "bricks")
    assert_one_line_error(run_cli("eval", str(onnx_models["fp32"]), str(folder)), "'bricks' is not one of", "brick")


def test_empty_class_folder_and_no_class_folders_are_one_line(onnx_models, trained, tmp_path):
    folder = _small_folder(trained, tmp_path / "data")
    (folder / "gravel").mkdir()
    assert_one_line_error(run_cli("eval", str(onnx_models["fp32"]), str(folder)), "gravel", "has no images")
    assert_one_line_error(run_cli("eval", str(onnx_models["fp32"]), str(tmp_path / "data" / "brick")), "no class subfolders")


def test_unreadable_image_is_skipped_counted_and_reported(onnx_models, trained, tmp_path):
    folder = _small_folder(trained, tmp_path / "data")
    (folder / "coins" / "broken.jpg").write_bytes(b"not a jpeg")
    proc = run_cli("eval", str(onnx_models["fp32"]), str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["images"] == 4 and data["skipped"] == 1 and data["skipped_images"][0].endswith("broken.jpg")
    assert "broken.jpg" in proc.stderr


def test_label_less_artifact_matches_sorted_folders_and_says_so(trained, tmp_path):
    folder = _small_folder(trained, tmp_path / "data")
    proc = run_cli("eval", str(trained[0]), str(folder), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "sorted order" in proc.stdout


def test_bench_rows_carry_accuracy_and_a_foreign_target_gets_none(trained, tmp_path):
    folder = _small_folder(trained, tmp_path / "data")
    out = tmp_path / "r.json"
    proc = run_cli(
        "bench", str(trained[0]), "lsnet_t", "--eval", str(folder), "--eval-labels", str(trained[1]),
        "--batch", "1", "--warmup", "0", "--warmup-iters", "1", "--min-time", "0.05", "--rounds", "1", "--out", str(out), "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["target"]: r for r in json.loads(out.read_text())["rows"]}
    accuracy = rows[trained[0].name]["accuracy"]
    assert accuracy["images"] == 4 and 0 <= accuracy["top1"] <= accuracy["top5"] <= 1 and accuracy["dataset"] == "data"
    assert "accuracy" not in rows["lsnet_t"] and "no accuracy for lsnet_t" in proc.stderr
    assert "top-1" in proc.stdout


def test_bench_eval_of_a_bad_folder_fails_before_measuring(trained, tmp_path):
    proc = run_cli("bench", str(trained[0]), "--eval", str(tmp_path), "--quiet")
    assert_one_line_error(proc, "no class subfolders")


def test_serve_shows_the_fixture_labels(onnx_models, trained):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    import httpx
    from serve_support import running_server

    from lsnet.runtimes.registry import open_runner
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings, serving_metadata

    image = next((trained[2] / "gravel").iterdir()).read_bytes()
    with open_runner(onnx_models["fp32"]) as runner:
        app = create_app(runner, serving_metadata(runner, onnx_models["fp32"]), ServeSettings(max_batch=4, max_wait_ms=5, top=3))
        with running_server(app) as (url, _):
            r = httpx.post(f"{url}/predict", content=image, headers={"content-type": "image/jpeg"}, timeout=60)
    assert r.status_code == 200, r.text
    (pred,) = r.json()["predictions"]
    assert {t["label"] for t in pred["top"]} <= set(trained[1].read_text().split())
