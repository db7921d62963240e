"""The first hour: export stages on a terminal and in logs, preflight before any work, one random-weights warning."""
import io
import os
import pty
import re
import subprocess
import sys
import time

import pytest
from cli_helpers import REPO, assert_one_line_error, run_cli

from lsnet.commands.stage_display import LiveStages, PlainStages, stage_display
from lsnet.export.progress import reporting, stage


def without_escapes(text: str) -> str:
    """Terminal output without colours and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def run_on_terminal(*args: str, timeout: float = 600) -> tuple[int, str]:
    """``python -m lsnet ARGS`` with stdout and stderr on a pseudo-terminal; (exit code, everything it printed)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "lsnet", *args], stdin=follower, stdout=follower, stderr=follower,
                            cwd=REPO, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), without_escapes(b"".join(chunks).decode(errors="replace"))


def test_export_shows_each_stage_with_its_time_on_a_terminal(tmp_path):
    pytest.importorskip("onnx")
    target = tmp_path / "t.onnx"
    code, shown = run_on_terminal("export", "lsnet_t", "--img-size", "64", "--no-validate", "--no-simplify", "-o", str(target))
    assert code == 0, shown[-3000:]
    for name in ("build", "fuse", "export", "write"):  # simplify and validate are switched off to keep it short
        assert f"✓ {name}" in shown, shown[-3000:]
    assert " s" in shown and "exported " in shown
    for command in (f"lsnet validate {target}", f"lsnet predict {target} IMAGE.jpg", f"lsnet eval {target} FOLDER",
                    f"lsnet bench run {target}", f"lsnet serve {target}"):
        assert command in shown


def test_plain_lines_when_not_on_a_terminal():
    stream = io.StringIO()
    with stage_display(stream) as display, reporting(display):
        assert isinstance(display, PlainStages)
        with stage("build", "lsnet_t"):
            pass
        with pytest.raises(RuntimeError), stage("export", "onnx"):
            raise RuntimeError("boom")
    assert stream.getvalue().splitlines() == [
        "build     lsnet_t ...", "build     done in 0.0 s", "export    onnx ...", "export    FAILED in 0.0 s",
    ]


def test_live_display_keeps_one_line_per_finished_stage():
    from rich.console import Console

    stream = io.StringIO()
    live = LiveStages(Console(file=stream, force_terminal=True, width=100))
    with live.progress, reporting(live), stage("fuse", "SKA shift"):
        pass
    assert "✓ fuse      SKA shift  0.0 s\n" in without_escapes(stream.getvalue())


def test_stages_are_silent_without_a_display():
    with stage("build"):
        pass  # library use: nothing listens, nothing breaks


def test_missing_tritonclient_fails_in_the_preflight_before_any_work(tmp_path, monkeypatch):
    from lsnet.errors import MissingDependencyError
    from lsnet.export import api

    def no_building(*args, **kwargs):
        raise AssertionError("the model was built before the preflight failed")

    monkeypatch.setitem(sys.modules, "tritonclient", None)
    monkeypatch.setattr(api, "build_reference", no_building)
    started = time.perf_counter()
    with pytest.raises(MissingDependencyError, match="tritonclient"):
        api.export("lsnet_t", "triton", output=tmp_path / "repository")
    assert time.perf_counter() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_missing_tritonclient_cli_is_one_line_without_stages_or_warning(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "tritonclient.py").write_text("raise ImportError('not installed for this test')\n")
    proc = run_cli("export", "lsnet_t", "-f", "triton", "-o", str(tmp_path / "out" / "repository"),
                   env={"PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])})
    assert_one_line_error(proc, "tritonclient", "pip install")
    assert "random weights" not in proc.stderr and "build     lsnet_t" not in proc.stderr
    assert not (tmp_path / "out" / "repository").exists()


def test_tensorrt_error_comes_without_the_random_weights_warning(tmp_path):
    from lsnet.deps import try_import

    if try_import("tensorrt")[0] is not None:
        pytest.skip("TensorRT is installed here: the export would run")
    proc = run_cli("export", "lsnet_t", "-f", "trt", "-o", str(tmp_path / "m.engine"))
    assert proc.returncode != 0
    assert "random weights" not in proc.stderr and "build     lsnet_t" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_random_weights_warning_is_one_sentence_everywhere(caplog):
    from lsnet.init import warn_random_weights

    warn_random_weights("model.onnx")
    assert [r.getMessage() for r in caplog.records] == [
        "model.onnx has random weights (no checkpoint given): its predictions are meaningless, while parity and "
        "speed are real. Pass --weights CHECKPOINT for a trained model."
    ]
