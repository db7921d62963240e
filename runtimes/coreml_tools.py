"""Importing coremltools quietly: its import-time chatter becomes at most one warning line."""
import io
import logging
import os
import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from functools import cache
from types import ModuleType

from lsnet.deps import require

log = logging.getLogger(__name__)

# coremltools and what it imports log at import and conversion time: torchao (optional kernels it cannot load on
# this machine) and torch's pytree registry (a notice about torchao's enums); all of it goes to the debug log
CHATTY_LOGGERS = ("coremltools", "torchao", "torch.utils._pytree")


class _Collect(logging.Handler):
    """Keeps the records it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured_coremltools_log() -> Iterator[_Collect]:
    """Route the log records of coremltools (and of what it imports) into a collector instead of stderr."""
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    collector, propagate = _Collect(), [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.propagate = False
    try:
        yield collector
    finally:
        for logger, previous in zip(loggers, propagate):
            logger.removeHandler(collector)
            logger.propagate = previous


@cache
def import_coremltools() -> ModuleType:
    """``coremltools``, or MissingDependencyError with the install line.

    Its warnings at import (an untested torch version; the native prediction library that only
    exists on macOS) are re-emitted as one line; the rest goes to the debug log.
    """
    with _captured_coremltools_log() as collected:
        ct = require("coremltools", "coreml", "Core ML export")
    untested = [r.getMessage() for r in collected.records if "has not been tested" in r.getMessage()]
    for record in collected.records:
        log.debug("coremltools: %s", record.getMessage())
    if untested:
        log.warning(
            "coremltools %s: %s; lsnet checks every Core ML artifact after conversion (structure and parity).",
            ct.__version__,
            untested[0].split(". You may")[0].rstrip("."),
        )
    return ct


@contextmanager
def quiet_conversion() -> Iterator[None]:
    """Keep coremltools' progress bars, info logs and warnings off the console (LSNET_DEBUG keeps them)."""
    if os.environ.get("LSNET_DEBUG"):
        yield
        return
    progress = io.StringIO()
    with (
        _captured_coremltools_log() as collected,
        warnings.catch_warnings(record=True) as caught,
        redirect_stderr(progress),
    ):
        warnings.simplefilter("always")
        yield
    for message in [r.getMessage() for r in collected.records] + [str(w.message) for w in caught]:
        log.debug("coremltools: %s", message)


def can_predict() -> bool:
    """True where Core ML predictions run: macOS with coremltools' native library."""
    if platform.system() != "Darwin":
        return False
    try:
        from coremltools.libcoremlpython import _MLModelProxy  # noqa: F401
    except ImportError:
        return False
    return True
