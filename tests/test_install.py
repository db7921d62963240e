"""Packaging: a non-editable install puts everything under ``lsnet`` and the console script works anywhere."""
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a clean copy of the checkout (a stale build/ folder would leak old files into it)."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "lsnet"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    return next(out.glob("lsnet-*.whl"))


def test_wheel_has_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"lsnet"}
    for module in ("lsnet/cli.py", "lsnet/export/__init__.py", "lsnet/runtimes/__init__.py",
                   "lsnet/bench/__init__.py", "lsnet/serve/__init__.py", "lsnet/data/imagenet_classes.tsv", "lsnet/bench/schemas/results.schema.json"):
        assert module in names, module
    assert not [n for n in names if n.startswith("lsnet/bench/results/")], "committed results are repository data, not package data"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["wheel", "editable"])
def test_fresh_venv_console_script_from_any_directory(mode, wheel, tmp_path):
    """Install (no deps) into a fresh venv that borrows this environment's dependencies; run from elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    fresh_site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True, env=env).strip())
    # dependencies (torch, typer, ...) come from the current environment, appended after the venv's own site
    # (every site-packages this interpreter sees, so a venv layered on a base environment works too)
    parent_sites = [sysconfig.get_paths()["purelib"]] + [p for p in sys.path if p.endswith("site-packages")]
    (fresh_site / "_parent_env.pth").write_text("\n".join(dict.fromkeys(parent_sites)) + "\n")
    target = [str(wheel)] if mode == "wheel" else ["-e", str(REPO)]
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", *target], check=True, timeout=600, env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([str(bin_dir / "lsnet"), "info", "lsnet_t", "--json"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    where = subprocess.check_output([str(python), "-c", "import lsnet, lsnet.cli; print(lsnet.__file__, lsnet.cli.__file__)"],
                                    cwd=elsewhere, env=env, text=True)
    if mode == "wheel":
        assert str(fresh_site) in where and str(REPO) not in where
    else:
        assert str(REPO / "lsnet") in where and str(REPO / "lsnet" / "cli.py") in where
    if mode == "wheel":  # the symlink lsnet/cli.py -> ../cli.py ships as the file itself
        installed_cli = fresh_site / "lsnet" / "cli.py"
        assert not installed_cli.is_symlink() and installed_cli.read_text() == (REPO / "cli.py").read_text()
    for forbidden in ("export", "bench", "runtimes", "serve", "cli"):
        assert not (fresh_site / forbidden).exists() and not (fresh_site / f"{forbidden}.py").exists()
