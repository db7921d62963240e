"""Build configuration for the repository layout.

The top-level folders ``lsnet/``, ``export/``, ``runtimes/``, ``bench/`` and ``serve/`` become the
packages ``lsnet``, ``lsnet.export``, ``lsnet.runtimes``, ``lsnet.bench`` and ``lsnet.serve`` (with all
their subpackages). The top-level ``cli.py`` is ``lsnet.cli``: ``lsnet/cli.py`` is a symlink to it,
which the wheel build copies as a file. The same ``package_dir`` map serves wheels and editable installs
(setuptools' editable finder maps each name to its folder), so nothing else lands at the
top level of site-packages and no import path is patched at run time.
"""
from setuptools import find_packages, setup

PACKAGE_ROOTS = {"lsnet": "lsnet", "lsnet.export": "export", "lsnet.runtimes": "runtimes", "lsnet.bench": "bench", "lsnet.serve": "serve"}


def discover_packages() -> list[str]:
    """Every package under each root folder, named inside ``lsnet``."""
    packages = []
    for name, folder in PACKAGE_ROOTS.items():
        packages.append(name)
        packages.extend(f"{name}.{sub}" for sub in find_packages(folder))
    return packages


setup(packages=discover_packages(), package_dir=PACKAGE_ROOTS)
