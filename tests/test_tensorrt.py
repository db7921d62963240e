"""TensorRT export and runner: clean refusals everywhere, engine build/run/parity where TensorRT and a GPU exist."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cli_helpers import assert_one_line_error, run_cli
from lsnet.deps import try_import
from lsnet.errors import BatchSizeError, UnknownOptionError
from lsnet.export.options import ExportOptions
from lsnet.export.options import check_batch_range
from lsnet.export.tensorrt_exporter import DEFAULT_BATCH_RANGE, resolve_batch_range
from lsnet.runtimes.tensorrt_env import EngineMismatchError, check_engine_compatible

_trt, _why = try_import("tensorrt")
HAVE_TRT_GPU = _trt is not None and torch.cuda.is_available()
MISSING = "; ".join(
    ([f"TensorRT is {_why}"] if _trt is None else []) + ([] if torch.cuda.is_available() else ["no CUDA GPU"])
)
needs_trt = pytest.mark.skipif(not HAVE_TRT_GPU, reason=f"needs TensorRT and an NVIDIA GPU ({MISSING})")
without_trt = pytest.mark.skipif(HAVE_TRT_GPU, reason="checks the refusal on machines without TensorRT or a GPU")

BUILT = {"tensorrt_version": "10.8.0.43", "gpu": "NVIDIA A10", "compute_capability": "8.6"}


@without_trt
@pytest.mark.parametrize("fmt", ["trt", "plan"])
def test_export_refuses_without_tensorrt_or_gpu(tmp_path: Path, fmt: str) -> None:
    proc = run_cli("export", "lsnet_t", "--format", fmt, "-o", str(tmp_path / "lsnet_t.engine"))
    assert_one_line_error(proc, "TensorRT", "NVIDIA GPU", 'pip install "lsnet[trt]"')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "needle"), [("8,1,4", "MIN <= OPT <= MAX"), ("0,1,2", ">= 1"), ("1,8", "MIN,OPT,MAX"), ("a,b,c", "integers")])
def test_cli_rejects_bad_batch_range(tmp_path: Path, text: str, needle: str) -> None:
    proc = run_cli("export", "lsnet_t", "--format", "trt", "--batch-range", text, "-o", str(tmp_path / "m.engine"))
    assert_one_line_error(proc, "--batch-range", needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [(8, 1, 4), (0, 1, 2), (1, 2), (4, 4, 2), ("x", 1, 2)])
def test_batch_range_check(bad) -> None:
    with pytest.raises(UnknownOptionError, match="--batch-range"):
        check_batch_range(bad)


def test_batch_range_resolution() -> None:
    assert resolve_batch_range(ExportOptions()) == DEFAULT_BATCH_RANGE == (1, 8, 64)
    assert resolve_batch_range(ExportOptions(batch_range=(2, 4, 16))) == (2, 4, 16)
    assert resolve_batch_range(ExportOptions(batch=4, dynamic_batch=False)) == (4, 4, 4)
    assert resolve_batch_range(ExportOptions(batch=4, dynamic_batch=False, batch_range=(4, 4, 4))) == (4, 4, 4)
    with pytest.raises(UnknownOptionError, match="fixed at 4"):
        resolve_batch_range(ExportOptions(batch=4, dynamic_batch=False, batch_range=(1, 2, 4)))


def test_api_checks_options_before_looking_for_tensorrt(tmp_path: Path) -> None:
    from lsnet.export import export

    target = tmp_path / "m.engine"
    with pytest.raises(UnknownOptionError, match="MIN <= OPT <= MAX"):
        export("lsnet_t", "tensorrt", img_size=64, batch_range=(8, 1, 4), output=target)
    with pytest.raises(UnknownOptionError, match="workspace"):
        export("lsnet_t", "trt", img_size=64, workspace_gb=0, output=target)
    assert list(tmp_path.iterdir()) == []


def test_compatible_engine_passes() -> None:
    check_engine_compatible(BUILT, dict(BUILT))
    check_engine_compatible(None, dict(BUILT))  # no sidecar: nothing to compare (TensorRT itself refuses garbage)


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [("tensorrt_version", "10.9.0.34", "TensorRT version 10.8.0.43 (built) vs 10.9.0.34 (here)"),
     ("gpu", "NVIDIA H100 80GB HBM3", "GPU NVIDIA A10 (built) vs NVIDIA H100 80GB HBM3 (here)"),
     ("compute_capability", "9.0", "compute capability 8.6 (built) vs 9.0 (here)")],
)
def test_engine_from_another_setup_is_refused(key: str, value: str, needle: str) -> None:
    with pytest.raises(EngineMismatchError, match="not portable") as info:
        check_engine_compatible(BUILT, {**BUILT, key: value}, "m.engine")
    message = str(info.value)
    assert needle in message and "lsnet export MODEL --format trt" in message and "\n" not in message


@without_trt
def test_runner_refuses_without_tensorrt_or_gpu(tmp_path: Path) -> None:
    from lsnet.runtimes.registry import open_runner
    from lsnet.runtimes.tensorrt_env import TensorRTUnavailableError

    engine = tmp_path / "m.engine"
    engine.write_bytes(b"not an engine")
    with pytest.raises(TensorRTUnavailableError, match='NVIDIA GPU with TensorRT.*pip install "lsnet\\[trt\\]"'):
        open_runner(engine, device="cuda")


# ---------------------------------------------------------------- with TensorRT and a GPU


@pytest.fixture(scope="module")
def fp32_engine(tmp_path_factory, lsnet_t_checkpoint):
    """lsnet_t (conformance weights) as an FP32 engine with batch range 1..4 and a private timing cache."""
    from lsnet.export import export

    folder = tmp_path_factory.mktemp("trt")
    result = export("lsnet_t", "trt", weights=lsnet_t_checkpoint, batch_range=(1, 2, 4),
                    timing_cache=folder / "timing.cache", output=folder / "lsnet_t.engine")
    return result


@pytest.mark.trt
@needs_trt
def test_engine_export_records_setup_and_passes_parity(fp32_engine) -> None:
    meta = json.loads(fp32_engine.sidecar.read_text())
    trt_meta = meta["tensorrt"]
    assert trt_meta["tensorrt_version"] == _trt.__version__
    assert trt_meta["gpu"] == torch.cuda.get_device_name(0)
    assert trt_meta["batch_range"] == [1, 2, 4] and trt_meta["precision"] == "fp32"
    assert meta["parity"]["passed"] and fp32_engine.parity.passed
    assert Path(trt_meta["builder"]["timing_cache"]).is_file()


@pytest.mark.trt
@needs_trt
def test_engine_matches_conformance_logits(fp32_engine, fixture_npz) -> None:
    from lsnet.runtimes.registry import open_runner

    data = fixture_npz("lsnet_t")
    with open_runner(fp32_engine.path, device="cuda") as runner:
        assert (runner.input_spec.min_batch, runner.input_spec.max_batch) == (1, 4)
        logits = runner.infer(data["input"])
    np.testing.assert_allclose(logits, data["logits"], rtol=1e-3, atol=1e-3)


@pytest.mark.trt
@needs_trt
def test_cuda_graph_runner_matches_plain_runner(fp32_engine) -> None:
    from lsnet.runtimes.tensorrt_runner import TensorRTRunner

    rng = np.random.default_rng(0)
    with TensorRTRunner(fp32_engine.path) as plain, TensorRTRunner(fp32_engine.path, cuda_graph=True) as graphed:
        for batch in (1, 3, 1):
            x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
            np.testing.assert_allclose(graphed.infer(x), plain.infer(x), rtol=1e-5, atol=1e-5)
        native = graphed.infer_native(graphed.prepare(x))
        assert native.is_cuda


@pytest.mark.trt
@needs_trt
def test_batch_outside_profile_is_refused(fp32_engine) -> None:
    from lsnet.runtimes.tensorrt_runner import TensorRTRunner

    with TensorRTRunner(fp32_engine.path) as runner, pytest.raises(BatchSizeError, match="outside"):
        runner.infer(np.zeros((5, 3, 224, 224), np.float32))


@pytest.mark.trt
@needs_trt
def test_runner_refuses_engine_recorded_for_another_gpu(fp32_engine, tmp_path: Path) -> None:
    from lsnet.runtimes.artifact_metadata import sidecar_path
    from lsnet.runtimes.tensorrt_runner import TensorRTRunner

    engine = tmp_path / "other.engine"
    shutil.copy(fp32_engine.path, engine)
    meta = json.loads(fp32_engine.sidecar.read_text())
    meta["tensorrt"]["gpu"] = "Some Other GPU"
    sidecar_path(engine).write_text(json.dumps(meta))
    with pytest.raises(EngineMismatchError, match="Some Other GPU"):
        TensorRTRunner(engine)


@pytest.mark.trt
@needs_trt
def test_cli_validate_engine(fp32_engine) -> None:
    proc = run_cli("validate", str(fp32_engine.path), "--device", "cuda")
    assert proc.returncode == 0, proc.stderr
    assert "parity: PASSED" in proc.stdout


@pytest.mark.trt
@needs_trt
def test_fp16_engine_passes_fp16_parity(tmp_path: Path, lsnet_t_checkpoint) -> None:
    from lsnet.export import export

    result = export("lsnet_t", "trt", weights=lsnet_t_checkpoint, half=True, batch_range=(1, 2, 4),
                    timing_cache=tmp_path / "timing.cache", output=tmp_path / "lsnet_t_fp16.engine")
    assert result.parity.passed and result.metadata["tensorrt"]["precision"] == "fp16"
