"""Export stages (build, fuse, export, simplify, validate, write) reported to whoever listens.

Code anywhere in an export wraps a step in ``stage("simplify")``; the CLI installs a display with
``reporting(display)``; library calls without one report nothing. No timing leaks into results:
the elapsed seconds only go to the display.
"""
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

STAGES = ("build", "fuse", "export", "simplify", "validate", "write")


class StageDisplay(Protocol):
    """Receives the start and end of each stage."""

    def started(self, name: str, detail: str) -> None: ...

    def finished(self, name: str, detail: str, seconds: float, ok: bool) -> None: ...


_display: ContextVar[StageDisplay | None] = ContextVar("lsnet_export_stage_display", default=None)


@contextmanager
def reporting(display: StageDisplay) -> Iterator[None]:
    """Send the stages of exports run inside this block to ``display``."""
    token = _display.set(display)
    try:
        yield
    finally:
        _display.reset(token)


@contextmanager
def stage(name: str, detail: str = "") -> Iterator[None]:
    """Report one stage of an export (a no-op when nobody listens)."""
    display = _display.get()
    if display is None:
        yield
        return
    display.started(name, detail)
    started = time.perf_counter()
    ok = False
    try:
        yield
        ok = True
    finally:
        display.finished(name, detail, time.perf_counter() - started, ok)
