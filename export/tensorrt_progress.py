"""Build progress and log routing for the TensorRT builder (classes made once tensorrt is imported)."""
import logging
import sys
import threading
from types import ModuleType
from typing import Any

log = logging.getLogger("lsnet.tensorrt")


def make_logger(trt: ModuleType) -> Any:
    """An ILogger that sends TensorRT messages to Python logging and keeps the errors for our messages."""

    class BuildLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if severity in (trt.ILogger.Severity.INTERNAL_ERROR, trt.ILogger.Severity.ERROR):
                self.errors.append(" ".join(msg.split()))
                log.error("TensorRT: %s", msg)
            elif severity == trt.ILogger.Severity.WARNING:
                log.warning("TensorRT: %s", msg)
            else:
                log.debug("TensorRT: %s", msg)

    return BuildLogger()


def make_progress_monitor(trt: ModuleType, use_rich: bool | None = None) -> Any:
    """An IProgressMonitor showing the builder's phases: rich bars on a terminal, plain lines otherwise."""
    use_rich = sys.stderr.isatty() if use_rich is None else use_rich

    class BuildProgress(trt.IProgressMonitor):
        """Thread-safe: TensorRT may call it from its own threads."""

        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self._lock = threading.Lock()
            self._depth: dict[str, int] = {}
            self._tasks: dict[str, Any] = {}
            self._progress = None
            if use_rich:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

                self._progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True,
                )

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            with self._lock:
                depth = self._depth.get(parent_phase, -1) + 1 if parent_phase else 0
                self._depth[phase_name] = depth
                if self._progress is not None:
                    if not self._tasks:
                        self._progress.start()
                    self._tasks[phase_name] = self._progress.add_task("  " * depth + phase_name, total=num_steps)
                elif depth == 0:
                    log.info("TensorRT build: %s (%d steps)", phase_name, num_steps)

        def step_complete(self, phase_name: str, step: int) -> bool:
            with self._lock:
                if self._progress is not None and phase_name in self._tasks:
                    self._progress.update(self._tasks[phase_name], completed=step + 1)
            return True  # False would cancel the build

        def phase_finish(self, phase_name: str) -> None:
            with self._lock:
                depth = self._depth.pop(phase_name, 0)
                if self._progress is not None:
                    task = self._tasks.pop(phase_name, None)
                    if task is not None:
                        self._progress.remove_task(task)
                    if not self._tasks:
                        self._progress.stop()
                elif depth == 0:
                    log.info("TensorRT build: %s done", phase_name)

    return BuildProgress()
