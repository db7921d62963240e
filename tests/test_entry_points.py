"""``lsnet --version``, ``python -m lsnet``, and test fixtures that travel with the repository."""
import os
import re
import subprocess
import sys
from pathlib import Path

from cli_helpers import run_cli

REPO = Path(__file__).resolve().parents[1]


def test_version_is_the_package_version():
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"lsnet {version}"


def test_python_dash_m_lsnet_is_the_lsnet_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lsnet", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: lsnet" in proc.stdout and "export" in proc.stdout and "--version" in proc.stdout


def test_conformance_tests_run_without_a_shared_folder(tmp_path):
    """The default fixtures are the copy in tests/fixtures, so a clone with no ../shared runs the conformance tests."""
    import conftest

    assert conftest.BUNDLED_CONFORMANCE.is_relative_to(REPO)
    assert (conftest.BUNDLED_CONFORMANCE / "manifest.json").is_file()
    env = {k: v for k, v in os.environ.items() if k != "LSNET_CONFORMANCE"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         "tests/test_ska.py::test_matches_conformance_fixture"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "passed" in proc.stdout and "skipped" not in proc.stdout and "SKIPPED" not in proc.stdout
