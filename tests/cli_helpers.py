"""Run the ``lsnet`` CLI in a subprocess exactly as a user would (module form, repo on the path)."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m lsnet.cli ARGS`` with the checkout importable; returns the completed process."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lsnet.cli", *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


def export_trained_int8(trained: Path, out: Path, *format_args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """The documented INT8 export of the trained fixture (its held-out folder as ``--eval``) to ``out``, with
    ``format_args`` (e.g. ``--format litert``); asserts it succeeded and returns (process, sidecar)."""
    proc = run_cli(
        "export", "lsnet_t", *format_args, "--weights", str(trained / "lsnet_t_photos10.pth"),
        "--labels", str(trained / "labels.txt"), "--int8", "--calib", str(trained / "calib"),
        "--eval", str(trained / "heldout"), "-o", str(out), timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(Path(f"{out}.json").read_text())


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    """Non-zero exit, no traceback, the error on one stderr line containing every needle."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, proc.stderr
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]
