"""Source-checkout layout: make the top-level folders importable as ``lsnet.*``.

In the repository, ``export/``, ``runtimes/``, ``bench/``, ``serve/`` and ``cli.py`` sit beside
``lsnet/``; installed, they live inside the ``lsnet`` package (see setup.py and
pyproject.toml). When running from a checkout (or an editable install), the
repository root is appended to the package search path so that ``lsnet.export``
and ``lsnet.cli`` resolve to those top-level files.
"""
from pathlib import Path


def source_root(package_dir: Path) -> Path | None:
    """The repository root if ``package_dir`` is ``lsnet/`` inside a checkout, else None."""
    root = package_dir.resolve().parent
    if (root / "cli.py").is_file() and (root / "pyproject.toml").is_file() and (root / "export").is_dir():
        return root
    return None
