"""``lsnet eval ARTIFACT FOLDER``: top-1/top-5, per-class accuracy and confused pairs on a labelled folder."""
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from lsnet.commands.options import LabelsOption

PLAIN_PROGRESS_STEPS = 10  # lines printed by the plain (non-terminal) progress display


@contextmanager
def progress_display(label: str, quiet: bool) -> Iterator:
    """A ``(done, total)`` callback: a rich bar on a terminal, a line per 10% otherwise (stderr)."""
    if quiet:
        yield None
        return
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    shown = [-1]

    def plain(done: int, total: int) -> None:
        step = done * PLAIN_PROGRESS_STEPS // max(total, 1)
        if step != shown[0]:
            shown[0] = step
            print(f"{label}: {done}/{total} images", file=sys.stderr, flush=True)

    yield plain


def evaluate(
    artifact: str = typer.Argument(..., help="Model name, checkpoint, or artifact (.onnx, .engine, .mlpackage, ...)."),
    folder: Path = typer.Argument(..., help="Folder with one subfolder of images per class, named by label."),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint for a model name."),
    labels: Path | None = LabelsOption,
    compare: str | None = typer.Option(None, "--compare", help="A second artifact: evaluated on the same images, with top-1 agreement."),
    batch: int = typer.Option(32, "--batch", help="Images per inference call."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Accuracy of any model or artifact on a labelled image folder, with its own preprocessing."""
    from lsnet.runtimes.evaluate import agreement
    from lsnet.runtimes.evaluate import evaluate as run_eval

    with progress_display(Path(artifact).name, quiet) as progress:
        result = run_eval(artifact, folder, weights=weights, labels=labels, batch=batch, device=device, progress=progress)
    other = None
    if compare is not None:
        with progress_display(Path(compare).name, quiet) as progress:
            other = run_eval(compare, folder, labels=labels, batch=batch, device=device, progress=progress)
    if as_json:
        data = result.to_dict()
        if other is not None:
            data["compare"] = {**other.to_dict(), "top1_agreement": agreement(result, other)}
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(format_result(result))
    if other is not None:
        typer.echo("")
        typer.echo(format_result(other))
        typer.echo(f"\ntop-1 agreement {result.artifact} vs {other.artifact}: {agreement(result, other):.2%}")


def format_result(result) -> str:
    """Summary, per-class table and confused pairs as plain text."""
    lines = [
        f"{result.artifact} on {result.folder}: top-1 {result.top1:.2%}, top-5 {result.top5:.2%} ({result.images} images)",
    ]
    if result.matched_by != "name":
        lines.append("note: the artifact has no class names; folders were matched to classes in sorted order")
    if result.skipped:
        lines.append(f"note: {len(result.skipped)} unreadable image(s) skipped, e.g. {result.skipped[0]}")
    width = max(len(c.label) for c in result.per_class)
    lines.append(f"{'class':{width}s}  {'images':>6s}  {'top-1':>7s}  {'top-5':>7s}")
    lines += [f"{c.label:{width}s}  {c.images:6d}  {c.top1:7.2%}  {c.top5:7.2%}" for c in result.per_class]
    if result.confused:
        lines.append("most confused (true -> predicted: images):")
        lines += [f"  {p['true']} -> {p['predicted']}: {p['count']}" for p in result.confused]
    return "\n".join(lines)
