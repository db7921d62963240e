"""Core ML bad input: each one a single clear line (LsnetError), nothing left behind."""
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from lsnet.errors import DeviceUnavailableError, LsnetError, MissingDependencyError, UnknownOptionError
from lsnet.export.api import export

REPO = Path(__file__).resolve().parents[1]


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"ska": "unfold"}, "--ska shift"),
        ({"batch_range": (1, 4, 8)}, "batch-prediction API"),
        ({"batch": 4}, "batch-prediction API"),
        ({"int8": True}, "does not apply to format 'coreml'"),
        ({"deployment_target": "iOS14"}, "cannot run ML Programs"),
        ({"deployment_target": "iOS99"}, "Choose one of"),
        ({"opset": 17}, "does not apply to format 'coreml'"),
    ],
)
def test_unsupported_options_are_one_line(tmp_path, options, expected):
    pytest.importorskip("coremltools")
    target = tmp_path / "m.mlpackage"
    with pytest.raises(LsnetError) as info:
        export("lsnet_t", "coreml", output=target, validate=False, img_size=64, **options)
    assert expected in _one_line(info.value)
    assert isinstance(info.value, UnknownOptionError)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_missing_coremltools_names_the_extra(monkeypatch):
    from lsnet.runtimes import coreml_tools

    coreml_tools.import_coremltools.cache_clear()
    monkeypatch.setitem(sys.modules, "coremltools", None)
    try:
        with pytest.raises(MissingDependencyError) as info:
            coreml_tools.import_coremltools()
    finally:
        coreml_tools.import_coremltools.cache_clear()
    assert 'pip install "lsnet[coreml]"' in _one_line(info.value)


def test_coremltools_import_chatter_is_one_warning_line():
    pytest.importorskip("coremltools")
    code = (
        "import logging; logging.basicConfig(format='%(levelname)s: %(message)s');"
        "from lsnet.runtimes.coreml_tools import import_coremltools; import_coremltools()"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 1, lines
    assert "Failed to load" not in result.stderr
    if lines:
        assert lines[0].startswith("WARNING: coremltools") and "has not been tested" in lines[0]


@pytest.mark.skipif(platform.system() == "Darwin", reason="on macOS the runner runs")
def test_runner_off_macos_says_so(tmp_path):
    from lsnet.runtimes.registry import open_runner

    with pytest.raises(DeviceUnavailableError) as info:
        open_runner(tmp_path / "m.mlpackage", device="all")
    assert _one_line(info.value) == "Core ML predictions need macOS; on Linux use lsnet validate for the structural checks."


def test_runner_rejects_unknown_compute_unit(tmp_path):
    from lsnet.runtimes.coreml_runner import CoreMLRunner

    with pytest.raises(UnknownOptionError) as info:
        CoreMLRunner(tmp_path / "m.mlpackage", device="cpu_and_npu")
    assert "cpu_and_ne" in _one_line(info.value)


def test_structure_check_refuses_a_non_model(tmp_path):
    pytest.importorskip("coremltools")
    from lsnet.errors import ArtifactError
    from lsnet.export.coreml_spec import summarize

    bogus = tmp_path / "broken.mlpackage"
    bogus.mkdir()
    with pytest.raises(ArtifactError) as info:
        summarize(bogus)
    assert "not a readable Core ML model" in _one_line(info.value)
    with pytest.raises(ArtifactError):
        summarize(tmp_path / "absent.mlpackage")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--int8"], "--int8 does not apply to format 'coreml'"),
        (["--ska", "unfold"], "use --ska shift"),
        (["--batch-range", "1,2,4"], "drop --batch/--batch-range"),
        (["--deployment-target", "iOS14"], "cannot run ML Programs"),
    ],
)
def test_cli_refuses_with_one_line(tmp_path, args, expected):
    pytest.importorskip("coremltools")
    target = tmp_path / "m.mlpackage"
    command = [sys.executable, "-m", "lsnet.cli", "export", "lsnet_t", "--format", "coreml", "-o", str(target), "--img-size", "64", *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(platform.system() == "Darwin", reason="on macOS the benchmark runs")
@pytest.mark.parametrize(
    ("device", "expected"),
    [("cpu_and_ne", "Core ML predictions need macOS"), ("npu", "unknown Core ML compute unit 'npu'")],
)
def test_bench_takes_compute_units_for_core_ml(tmp_path, device, expected):
    package = tmp_path / "m.mlpackage"
    package.mkdir()
    command = [sys.executable, "-m", "lsnet.cli", "bench", str(package), "--device", device]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
