"""The ``lsnet`` command. Each sub-command's body lives beside the code it drives."""
import errno
import logging
import os
import signal
import sys

import typer

from lsnet.bench import commands as bench_commands
from lsnet.commands import demo, doctor, evaluate, export_commands, model_commands, predict
from lsnet.serve import command as serve_command

app = typer.Typer(
    name="lsnet",
    help="LSNet: export to ONNX / TensorRT / Core ML with proven parity, validate, predict and benchmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("models")(model_commands.models)
app.command("info")(model_commands.info)
app.command("export")(export_commands.export)
app.command("validate")(export_commands.validate)
app.command("predict")(predict.predict)
app.command("eval")(evaluate.evaluate)
app.command("demo")(demo.demo)
app.command("serve")(serve_command.serve)
app.command("doctor")(doctor.doctor)
app.add_typer(bench_commands.app, name="bench")


def _print_version(value: bool) -> None:
    """``--version``: print the installed version and stop."""
    if value:
        from lsnet import __version__

        typer.echo(f"lsnet {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """LSNet: export to ONNX / TensorRT / Core ML with proven parity, validate, predict and benchmark."""


def _configure_logging() -> None:
    level = logging.DEBUG if os.environ.get("LSNET_DEBUG") else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "huggingface_hub", "urllib3", "onnxscript", "coremltools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


INTERRUPTED_EXIT = 130
INTERRUPTED = "interrupted; nothing was written"


class _InterruptWatch:
    """SIGINT handler that remembers the Ctrl-C before raising KeyboardInterrupt as Python's own handler does
    (typer turns that into a silent exit 130; ``main`` then says what happened)."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum: int, frame: object) -> None:
        self.seen = True
        signal.default_int_handler(signum, frame)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and a non-zero exit."""
    from lsnet.errors import LsnetError

    _configure_logging()
    interrupt = _InterruptWatch()
    signal.signal(signal.SIGINT, interrupt)
    try:
        app(standalone_mode=True, prog_name="lsnet")
    except LsnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:  # raised outside typer's command call
        typer.echo(INTERRUPTED, err=True)
        raise SystemExit(INTERRUPTED_EXIT) from None
    except SystemExit as exc:
        if interrupt.seen and exc.code == INTERRUPTED_EXIT:
            typer.echo(INTERRUPTED, err=True)
        raise
    except OSError as exc:
        if not (exc.errno == errno.ENOSPC or isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError))):
            internal_error(exc)
        hint = "; free some space or write elsewhere" if exc.errno == errno.ENOSPC else ""
        typer.echo(f"error: {exc.strerror or exc}: {exc.filename or 'while writing'}{hint}.", err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # a bug, not bad input: one line unless debugging
        internal_error(exc)


def internal_error(exc: Exception) -> None:
    """A bug, not bad input: one line (the traceback with LSNET_DEBUG=1)."""
    if os.environ.get("LSNET_DEBUG"):
        raise exc
    typer.echo(f"internal error: {type(exc).__name__}: {exc} (set LSNET_DEBUG=1 for the traceback)", err=True)
    raise SystemExit(1) from None


if __name__ == "__main__":
    main()
