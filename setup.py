"""Build configuration for the repository layout.

The top-level folders ``lsnet/``, ``export/``, ``runtimes/``, ``bench/`` and ``serve/`` become the
packages ``lsnet``, ``lsnet.export``, ``lsnet.runtimes``, ``lsnet.bench`` and ``lsnet.serve`` (with all
their subpackages), and the top-level ``cli.py`` ships as ``lsnet/cli.py``. Nothing
else lands at the top level of site-packages.
"""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

PACKAGE_ROOTS = {"lsnet": "lsnet", "lsnet.export": "export", "lsnet.runtimes": "runtimes", "lsnet.bench": "bench", "lsnet.serve": "serve"}


def discover_packages() -> list[str]:
    """Every package under each root folder, named inside ``lsnet``."""
    packages = []
    for name, folder in PACKAGE_ROOTS.items():
        packages.append(name)
        packages.extend(f"{name}.{sub}" for sub in find_packages(folder))
    return packages


class BuildPyWithCli(build_py):
    """Copy the top-level cli.py into the built ``lsnet`` package."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_file("cli.py", str(Path(self.build_lib) / "lsnet" / "cli.py"))


setup(packages=discover_packages(), package_dir=PACKAGE_ROOTS, cmdclass={"build_py": BuildPyWithCli})
