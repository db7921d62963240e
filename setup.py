"""Build hook: the top-level ``cli.py`` ships as ``lsnet/cli.py`` in the wheel.

The other top-level folders (export/, runtimes/, bench/) are mapped into the
``lsnet`` package by ``package-dir`` in pyproject.toml.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCli(build_py):
    """Copy the top-level cli.py into the built ``lsnet`` package."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_file("cli.py", str(Path(self.build_lib) / "lsnet" / "cli.py"))


setup(cmdclass={"build_py": BuildPyWithCli})
