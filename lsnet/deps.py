"""Lazy imports of optional dependencies with a one-line install hint."""
import importlib
from types import ModuleType

from lsnet.errors import MissingDependencyError


def require(module: str, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise MissingDependencyError telling how to install the ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"{module.split('.')[0]} is not installed{what}: pip install \"lsnet[{extra}]\""
        ) from exc
