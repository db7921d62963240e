"""INT8 ONNX export: Q/DQ graph that runs in ONNX Runtime, FP32-agreement report, refusal below the threshold."""
import numpy as np
import pytest

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def int8_export(lsnet_t_checkpoint, tmp_path_factory):
    from lsnet.export import export
    from lsnet.export.parity import THRESHOLDS, Thresholds

    out = tmp_path_factory.mktemp("int8") / "lsnet_t_int8.onnx"
    # the gate is exercised below; here any agreement is accepted so the artifact and its report can be
    # inspected (the untrained conformance weights give near-flat logits, see docs/int8.md)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(THRESHOLDS, "int8", Thresholds(float("inf"), float("inf"), -1.0, 0.0))
        return export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, output=out, int8=True, calib="8", int8_threshold=0.0, validate=False)


def test_int8_model_is_qdq_and_runs_in_onnxruntime(int8_export) -> None:
    import onnx

    from lsnet.runtimes.registry import open_runner

    ops = {n.op_type for n in onnx.load(str(int8_export.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    with open_runner(int8_export.path) as runner:
        logits = runner.infer(np.zeros((3, 3, 224, 224), np.float32))
        assert runner.info.precision == "int8"
    assert logits.shape == (3, 1000) and np.isfinite(logits).all()


def test_int8_report_compares_with_fp32_on_calibration_and_heldout_inputs(int8_export) -> None:
    meta = int8_export.metadata
    assert meta["precision"] == "int8"
    report = meta["int8"]["agreement_with_fp32"]
    # synthetic calibration: no real image exists, so the synthetic held-out case is the one judged
    assert [c["case"] for c in report["cases"]] == ["held-out image-like (32)"]
    assert [c["case"] for c in meta["int8"]["recorded_cases"]] == ["calibration images (8)"]
    for case in report["cases"] + meta["int8"]["recorded_cases"]:
        assert 0.0 <= case["top1_agreement"] <= case["top5_agreement"] <= 1.0 and -1.0 <= case["cosine"] <= 1.0
    assert meta["int8"]["calibration"]["synthetic"] is True
    assert any("accuracy of this model is UNKNOWN" in n for n in report["notes"])
    assert "TensorRT" in meta["int8"]["tensorrt"] and meta["int8"]["float_nodes"] > 0


def noise_images(folder, count: int) -> None:
    """``count`` small random-noise PNGs in ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_export_refuses_below_the_threshold_and_leaves_nothing(lsnet_t_checkpoint, tmp_path, monkeypatch) -> None:
    from lsnet.errors import ParityError
    from lsnet.export import export

    # the untrained conformance weights give near-flat logits: INT8 flips their top-1 on the held-out images
    calib = tmp_path / "noise"
    noise_images(calib, 80)
    out = tmp_path / "out" / "lsnet_t_int8.onnx"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # ORT's helpers must not drop files into the working directory either
    with pytest.raises(ParityError, match=r"held-out folder images \(16\): top-1 agreement .* --int8-threshold 0.95 .*Nothing was written") as info:
        export("lsnet_t", "onnx", weights=lsnet_t_checkpoint, output=out, int8=True, calib=str(calib))
    assert info.value.exit_code != 0
    assert not out.parent.exists() and list(workdir.iterdir()) == []  # the folder the export created is gone too


@pytest.mark.parametrize(
    "calib, threshold, message",
    [(None, 0.9, "needs calibration data"), ("nowhere/at/all", 0.9, "neither a folder"), ("8", 1.5, "between 0 and 1"),
     ("few", 0.9, "holds 20 images; INT8 needs at least 80")],
)
def test_bad_int8_options_are_one_clear_error(tmp_path, calib, threshold, message) -> None:
    from lsnet.errors import LsnetError
    from lsnet.export import export

    out = tmp_path / "out"
    out.mkdir()
    if calib == "few":
        noise_images(tmp_path / "few", 20)
        calib = str(tmp_path / "few")
    with pytest.raises(LsnetError, match=message):
        export("lsnet_t", "onnx", output=out / "m.onnx", img_size=64, int8=True, calib=calib, int8_threshold=threshold)
    assert list(out.iterdir()) == []


def test_int8_gates_share_the_user_threshold_and_judge_top1_on_large_cases_only() -> None:
    from lsnet.export.parity import THRESHOLDS, ParityReport, compare, limits_for
    from lsnet.export.validate import parity_batches, synthetic_limits

    limits = limits_for("int8", 0.75)
    assert limits.min_top1 == 0.75 and limits.min_cosine == THRESHOLDS["int8"].min_cosine
    assert limits_for("fp32", 0.75) == THRESHOLDS["fp32"]
    assert synthetic_limits("int8").min_top1 == 0.0 and synthetic_limits("fp16") == THRESHOLDS["fp16"]
    assert limits.top1_min_batch in parity_batches(True, None, "int8") and parity_batches(True, None, "fp32") == [1, 2, 3]
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((16, 10))
    one_flip = ref[:1].copy()
    one_flip[0, [ref[0].argmax(), ref[0].argsort()[-2]]] = one_flip[0, [ref[0].argsort()[-2], ref[0].argmax()]]
    small = compare("batch 1 with a flip", one_flip, ref[:1], limits)
    assert small.top1_agreement == 0.0
    assert not any("top-1" in f for f in ParityReport("int8", limits, [small]).failures)
    flipped = ref.copy()
    for row in range(6):  # 10 of 16 rows keep their argmax: 0.625 < 0.75
        top, second = ref[row].argsort()[-1], ref[row].argsort()[-2]
        flipped[row, [top, second]] = ref[row, [second, top]]
    report = ParityReport("int8", limits, [compare("batch 16", flipped, ref, limits)])
    assert any("top-1 agreement 0.625 < 0.75" in f for f in report.failures)
