"""Export stages on the console: a live spinner with elapsed time on a terminal, plain lines otherwise."""
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class PlainStages:
    """One line when a stage starts and one when it ends (logs, pipes, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def started(self, name: str, detail: str) -> None:
        print(f"{name:<9} {detail} ...", file=self.stream, flush=True)

    def finished(self, name: str, detail: str, seconds: float, ok: bool) -> None:
        print(f"{name:<9} {'done' if ok else 'FAILED'} in {seconds:.1f} s", file=self.stream, flush=True)


class LiveStages:
    """A spinner with the running time for each open stage; a finished stage stays as one line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        )
        self.tasks: dict[str, TaskID] = {}

    def started(self, name: str, detail: str) -> None:
        self.tasks[name] = self.progress.add_task(f"{name:<9} {detail}", total=None)

    def finished(self, name: str, detail: str, seconds: float, ok: bool) -> None:
        self.progress.remove_task(self.tasks.pop(name))
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        self.console.print(f"{mark} {name:<9} {detail}  [dim]{seconds:.1f} s[/dim]", highlight=False)


@contextmanager
def stage_display(stream: TextIO | None = None) -> Iterator[PlainStages | LiveStages]:
    """The display for ``stream`` (default stderr): live on a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    console = Console(file=stream)
    if not console.is_terminal or console.is_dumb_terminal:
        yield PlainStages(stream)
        return
    live = LiveStages(console)
    with live.progress:
        yield live
