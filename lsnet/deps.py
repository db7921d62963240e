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


def try_import(module: str) -> tuple[ModuleType | None, str | None]:
    """(module, None) or (None, why it cannot be imported); never raises for a missing or broken install."""
    try:
        return importlib.import_module(module), None
    except ModuleNotFoundError as exc:
        return None, f"not installed ({exc.name or module} is missing)"
    except Exception as exc:  # broken installs raise ImportError, OSError (missing shared libraries), RuntimeError
        return None, f"cannot be imported: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
