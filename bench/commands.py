"""``lsnet bench``: run targets, the paper protocol and claims, merge reports, import device results, export peers.

``lsnet bench TARGET...`` is the default sub-command (``run``); ``claims``, ``report``, ``import``
and ``peers`` are named sub-commands.
"""
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import click
import typer
from typer.core import TyperGroup

from lsnet.commands.options import parse_int_list, parse_size


class DefaultToRun(TyperGroup):
    """A group whose first argument, when it is not a sub-command, starts ``run`` (``lsnet bench lsnet_t``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToRun,
    help="Latency/throughput harness: lsnet bench TARGET... | claims | report | import | peers (see docs/bench.md).",
    no_args_is_help=True,
    add_completion=False,
)


@contextmanager
def progress(quiet: bool) -> Iterator[Callable[[int], Callable[[str], None]]]:
    """Yields ``start(total) -> step(description)``; a rich progress bar on a terminal, silent otherwise."""
    if quiet or not sys.stderr.isatty():
        yield lambda _total: (lambda _description: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        def start(total: int) -> Callable[[str], None]:
            task = bar.add_task("starting", total=total)
            return lambda description: bar.update(task, advance=1, description=description)

        yield start


def run_script(main: Callable[[], Any]) -> None:
    """Run a bench/ script's ``main``: bad input (an LsnetError) becomes one line on stderr and exit status 1."""
    from lsnet.errors import LsnetError

    try:
        main()
    except LsnetError as exc:
        raise SystemExit(f"error: {exc}") from None


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    from lsnet.export.artifact import staged

    with staged(path) as temp:
        temp.write_text(text)


def emit(doc: dict[str, Any], out: Optional[Path], csv_path: Optional[Path], plot: Optional[Path]) -> None:
    """Print the table (narrow on a terminal, full markdown otherwise); write JSON (+ .md beside it), CSV and a plot when asked."""
    from lsnet.bench import report, results

    text = report.render([(out, doc)])
    typer.echo(report.render([(out, doc)], table=report.terminal_table) if sys.stdout.isatty() else text)
    if out:
        results.write(doc, out)
        write_text(out.with_suffix(".md"), text)
        typer.echo(f"wrote {out} and {out.with_suffix('.md')}", err=True)
    if csv_path:
        write_text(csv_path, report.csv_text([doc]))
    if plot:
        from lsnet.bench.plots import latency_by_batch

        latency_by_batch([doc], plot)


# Option declarations shared by ``run`` (both protocols) and ``claims``; defaults stay in each signature.
DeviceOption = Annotated[str, typer.Option("--device", help="cpu or cuda.")]
ThreadsOption = Annotated[Optional[int], typer.Option("--threads", help="CPU threads for PyTorch and runtimes that take it.")]
AllowTf32Option = Annotated[bool, typer.Option("--allow-tf32", help="Paper protocol on GPU: allow TF32 like PyTorch's cuDNN default.")]
OutOption = Annotated[Optional[Path], typer.Option("--out", help="Write results JSON here (and the markdown table beside it).")]
QuietOption = Annotated[bool, typer.Option("--quiet", help="No progress display.")]


@app.command("run")
def run(
    targets: list[str] = typer.Argument(..., help="Model names with optional @modifiers (lsnet_t@fp16+cudagraph) or artifacts (.onnx, .engine, .mlpackage)."),
    device: DeviceOption = "cpu",
    batch: Optional[str] = typer.Option(None, "--batch", help="Batch sizes to sweep, e.g. 1,8,32 (default 1; paper protocol 2048 on GPU)."),
    img_size: Optional[str] = typer.Option(None, "--img-size", help="Input size for model targets: N or HxW (default 224)."),
    threads: ThreadsOption = None,
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32, fp16 or bf16 for PyTorch targets without an @precision."),
    ska: Optional[str] = typer.Option(None, "--ska", help="SKA formulation for PyTorch targets without @ska= (see lsnet models)."),
    compile: bool = typer.Option(False, "--compile", help="torch.compile PyTorch targets."),
    protocol: str = typer.Option("lsnet", "--protocol", help="lsnet (interleaved rounds) or paper (official throughput protocol)."),
    allow_tf32: AllowTf32Option = False,
    warmup: Optional[float] = typer.Option(None, "--warmup", help="Warm-up seconds per configuration (default 1; paper 5)."),
    warmup_iters: int = typer.Option(3, "--warmup-iters", help="At least this many warm-up calls."),
    min_time: Optional[float] = typer.Option(None, "--min-time", help="Timed seconds per configuration, over all rounds (default 3; paper 10)."),
    rounds: int = typer.Option(3, "--rounds", help="Rounds interleaved across targets (paper protocol: 1)."),
    out: OutOption = None,
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Also write the rows as CSV."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Also write the p50-per-batch bar charts as a PNG."),
    eval_folder: Optional[Path] = typer.Option(
        None, "--eval", help="Labelled folder (one subfolder per class): measure each target's held-out accuracy into its rows."
    ),
    eval_labels: Optional[Path] = typer.Option(None, "--eval-labels", help="Class names, one per output, for every target (overrides their own; see lsnet eval --labels)."),
    quiet: QuietOption = False,
) -> None:
    """Benchmark targets side by side: warm-up, interleaved timed rounds, percentiles, throughput, ratios."""
    from lsnet.choices import pick
    from lsnet.errors import UnknownOptionError

    pick("protocol", protocol, ("lsnet", "paper"))
    batches = parse_int_list(batch, "--batch") if batch else None
    if protocol == "paper" and eval_folder is not None:
        raise UnknownOptionError("--eval applies to --protocol lsnet; the paper protocol measures throughput only.")
    if eval_labels is not None and eval_folder is None:
        raise UnknownOptionError("--eval-labels needs --eval FOLDER.")
    if protocol == "paper":
        doc = paper_protocol(targets, device, batches, warmup, min_time, allow_tf32, quiet)
    else:
        from lsnet.bench.harness import Settings

        settings = Settings(warmup if warmup is not None else 1.0, warmup_iters, min_time if min_time is not None else 3.0, rounds)
        doc = latency_protocol(
            targets, device, batches or [1], img_size, threads, precision, ska, compile, settings, quiet, eval_folder, eval_labels
        )
    emit(doc, out, csv_path, plot)


def latency_protocol(
    targets: list[str], device: str, batches: list[int], img_size: Optional[str], threads: Optional[int],
    precision: Optional[str], ska: Optional[str], compile: bool, settings: Any, quiet: bool,
    eval_folder: Optional[Path] = None, eval_labels: Optional[Path] = None,
) -> dict[str, Any]:
    """``--protocol lsnet``: open every target, measure accuracy on ``eval_folder`` if given, then the interleaved
    sweep over ``batches``."""
    from lsnet.bench.targets import open_targets

    size = parse_size(img_size) if img_size else None
    size = (size, size) if isinstance(size, int) else size
    if eval_folder is not None:
        from lsnet.runtimes.evaluate import class_folders

        class_folders(eval_folder)  # a bad folder fails before any target is opened
    candidates = open_targets(targets, device, threads=threads, img_size=size, precision=precision, ska=ska, compile=compile)
    if eval_folder is not None:
        from lsnet.bench.accuracy import measure_accuracy

        try:
            measure_accuracy(candidates, eval_folder, eval_labels)
        except BaseException:
            for candidate in candidates:
                candidate.runner.close()
            raise
    return run_sweep(candidates, batches, device, threads, settings, quiet)


def paper_protocol(
    names: list[str], device: str, batches: Optional[list[int]], warmup: Optional[float], min_time: Optional[float],
    allow_tf32: bool, quiet: bool,
) -> dict[str, Any]:
    """``--protocol paper``: each model alone with the official throughput measurement (one batch, one round)."""
    from lsnet.bench import environment, paper, results
    from lsnet.bench.harness import Settings
    from lsnet.bench.targets import parse_target
    from lsnet.errors import UnknownOptionError

    base = paper.PAPER_SETTINGS
    settings = Settings(warmup if warmup is not None else base.warmup_s, 1, min_time if min_time is not None else base.min_time_s, 1)
    if batches and len(batches) > 1:
        raise UnknownOptionError("--protocol paper measures one batch: give --batch N once (default 2048 on GPU).")
    if device.startswith("cuda"):
        from lsnet.runtimes.torch_runner import resolve_device

        resolve_device(device)
    for name in names:
        spec = parse_target(name)
        if spec.artifact or spec.text != spec.name:
            raise UnknownOptionError(f"--protocol paper takes model names only (e.g. lsnet_t), not '{name}'.")
    batch = batches[0] if batches else None
    with progress(quiet) as start:
        step = start(len(names) * 2)
        measured = paper.paper_throughput(names, device, batch=batch, settings=settings, allow_tf32=allow_tf32, step=step)
    return results.build(
        measured, environment.describe(device), settings, protocol="paper",
        extra_settings=paper.claims_extra(device, paper.protocol_batch(device, batch), measured, allow_tf32, settings),
    )


def add_sweep_options(parser: Any, default_batches: str, name: str) -> None:
    """The argparse options ``sweep_artifacts`` reads, for the bench/ scripts; results default to bench/results/NAME_*."""
    parser.add_argument("--batches", default=default_batches, help="batch sizes to sweep, e.g. 1,8")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per configuration")
    parser.add_argument("--min-time", type=float, default=3.0, help="timed seconds per configuration, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds interleaved across the artifacts")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads (default: runtime's choice)")
    parser.add_argument("--out", type=Path, default=None, help=f"results JSON (default bench/results/{name}_<host>_<date>.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def export_measure_emit(
    benchmark: Callable[[Any, Path], dict[str, Any]], args: Any, name: str, folder: Path | None = None
) -> Path:
    """For the bench/ scripts: ``benchmark(args, folder)`` into ``folder`` (else a temporary one), print the table
    and write the results to ``args.out`` (default ``bench/results/<name>_<host>_<date>.json``); returns that path."""
    import tempfile

    from lsnet.bench.results import default_path

    out = args.out or default_path(name)
    if folder:
        doc = benchmark(args, folder)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            doc = benchmark(args, Path(tmp))
    emit(doc, out, None, None)
    return out


def sweep_artifacts(
    make_paths: Callable[[], list[str]], args: Any, source: str, annotate: Callable[[Any], None] | None = None
) -> dict[str, Any]:
    """For the bench/ scripts: check the script's ``--batches/--warmup/--min-time/--rounds`` options, then export
    (``make_paths``), open the artifacts on the CPU and run the interleaved sweep; the document names ``source``."""
    from lsnet.bench.harness import Settings
    from lsnet.bench.targets import open_targets

    batches = parse_int_list(args.batches, "--batches")
    settings = Settings(args.warmup, 3, args.min_time, args.rounds)  # bad options fail before any export
    candidates = open_targets(make_paths(), "cpu", threads=args.threads)
    for candidate in candidates:
        if annotate:
            annotate(candidate)
    doc = run_sweep(candidates, batches, "cpu", args.threads, settings, args.quiet)
    doc["environment"]["source"] = source
    return doc


def run_sweep(candidates: list[Any], batches: list[int], device: str, threads: Optional[int], settings: Any, quiet: bool) -> dict[str, Any]:
    """The interleaved sweep over ``batches``; closes the runners; returns the results document."""
    from lsnet.bench import environment, results
    from lsnet.bench.harness import Harness
    from lsnet.bench.memory import process_peak_rss_mb
    from lsnet.bench.timing import timer_for
    from lsnet.errors import LsnetError

    harness = Harness(settings, timer_for(device))
    try:
        with progress(quiet) as start:
            harness.step = start(harness.total_steps(len(candidates), len(batches)))
            measured = harness.run(candidates, batches)
    finally:
        for candidate in candidates:
            candidate.runner.close()
    for skipped in harness.skipped:
        typer.echo(f"skipped {skipped.label} at batch {skipped.batch}: {skipped.reason}", err=True)
    if not measured:
        raise LsnetError("no configuration could be measured (see the skipped lines above); lower --batch or check the targets.")
    return results.build(
        measured, environment.describe(device, threads), settings, skipped=harness.skipped,
        extra_settings={
            "batches": batches,
            "timer": "cuda-events" if device.startswith("cuda") else "perf_counter_ns",
            "peak_memory": "torch.cuda.max_memory_allocated for PyTorch on CUDA; null where the runtime does not expose it",
            "process_peak_rss_mb": process_peak_rss_mb(),
        },
    )


@app.command("claims")
def claims(
    device: DeviceOption = "cpu",
    batch: Optional[int] = typer.Option(None, "--batch", help="Protocol batch (default 2048 on GPU, halved on OOM; 16 on CPU)."),
    models: str = typer.Option(",".join(("lsnet_t", "lsnet_s", "lsnet_b")), "--models", help="Comma-separated variants."),
    warmup: float = typer.Option(5.0, "--warmup", help="Protocol warm-up seconds (paper: 5)."),
    min_time: float = typer.Option(10.0, "--min-time", help="Protocol timed seconds (paper: 10)."),
    latency_min_time: float = typer.Option(3.0, "--latency-min-time", help="Timed seconds of each CPU batch-1 latency configuration."),
    threads: ThreadsOption = None,
    allow_tf32: AllowTf32Option = False,
    out: OutOption = None,
    plot_dir: Optional[Path] = typer.Option(None, "--plot-dir", help="Write plots (incl. paper vs measured) here."),
    quiet: QuietOption = False,
) -> None:
    """The paper's figures (params, MACs, RTX 3090 throughput) beside ours, plus CPU batch-1 latency per runtime."""
    from dataclasses import asdict

    from lsnet.bench import environment, paper, results
    from lsnet.bench.harness import Settings
    from lsnet.choices import pick
    from lsnet.errors import UnknownModelError
    from lsnet.variants import VARIANTS

    names = [pick("model", m.strip(), VARIANTS, UnknownModelError) for m in models.split(",") if m.strip()]
    if batch is not None and batch < 1:
        from lsnet.errors import UnknownOptionError

        raise UnknownOptionError(f"--batch must be >= 1, got {batch}.")
    settings = Settings(warmup, 1, min_time, 1)
    latency_settings = Settings(1.0, 3, latency_min_time, 3)
    env = environment.describe(device, threads)
    with progress(quiet) as start:
        protocol = paper.paper_throughput(names, device, batch=batch, settings=settings, allow_tf32=allow_tf32, step=start(2 * len(names)))
        latency, notes = paper.cpu_latency(names, latency_settings, threads, start(8 * len(names)))
    cpu_env = env if not device.startswith("cuda") else environment.describe("cpu", threads)
    found = paper.size_claims(names) + paper.speed_claims(protocol, latency, env["machine"], cpu_env["machine"])
    extra = paper.claims_extra(device, paper.protocol_batch(device, batch), protocol, allow_tf32, settings)
    extra["notes"] += notes
    extra["cpu_latency"] = {"warmup_s": latency_settings.warmup_s, "min_time_s": latency_settings.min_time_s, "rounds": latency_settings.rounds}
    doc = results.build(protocol + latency, env, settings, protocol="paper", extra_settings=extra)
    doc["claims"] = [asdict(c) for c in found]
    emit(doc, out, None, None)
    if plot_dir:
        from lsnet.bench.plots import write_plots

        write_plots([doc], plot_dir)


@app.command("report")
def report_command(
    files: list[Path] = typer.Argument(..., help="Results files (or folders of them) to merge."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the markdown here (e.g. docs/benchmarks.md)."),
    plot_dir: Optional[Path] = typer.Option(None, "--plot-dir", help="Write PNG plots into this folder (e.g. docs/img)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Also write every row as CSV."),
) -> None:
    """Merge results files (including imported iPhone/Mac results) into one table, plots and CSV."""
    from lsnet.bench import report

    docs = report.load(files)
    command = "lsnet bench report " + " ".join(p.as_posix() for p, _ in docs)
    if out:
        command += f" --out {out.as_posix()}" + (f" --plot-dir {plot_dir.as_posix()}" if plot_dir else "")
    text = report.render(docs, command=command)
    if plot_dir:
        from lsnet.bench.plots import write_plots

        made = write_plots([d for _, d in docs], plot_dir)
        base = out.parent if out else Path.cwd()
        text += "\n" + "\n".join(f"![{p.stem}]({Path(_relative(p, base)).as_posix()})" for p in made) + "\n"
    if out:
        write_text(out, text)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(text)
    if csv_path:
        write_text(csv_path, report.csv_text([d for _, d in docs]))


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when possible (for image links in markdown)."""
    import os

    return os.path.relpath(path.resolve(), base.resolve())


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="Results JSON (Swift benchmark, another machine), a LiteRT benchmark_model log or ExecuTorch benchmark_results.json."),
    device_name: Optional[str] = typer.Option(None, "--device-name", help="Human device name, e.g. 'iPhone 15 Pro'."),
    out: Path = typer.Option(Path("bench/results"), "--out", help="Folder to copy the accepted file into."),
) -> None:
    """Validate a results file measured elsewhere and copy it into bench/results/ for the report."""
    from lsnet.bench.importer import import_results

    typer.echo(f"imported {import_results(file, out, device_name)}")


@app.command("peers")
def peers_command(
    out: Path = typer.Option(Path("exports"), "--out", help="Folder for <peer>.onnx and sidecars."),
    models: Optional[str] = typer.Option(None, "--models", help="Comma-separated subset (default: all peers)."),
    img_size: int = typer.Option(224, "--img-size"),
) -> None:
    """Export peer backbones (MobileNetV3-Large, EfficientViT-M4, RepViT-M1.1, FastViT-T8) to ONNX; needs timm (the peers extra)."""
    from lsnet.bench.peers import export_peers

    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    for path in export_peers(out, names, img_size):
        typer.echo(f"exported {path}")
