"""The ``lsnet`` command. Each sub-command's body lives beside the code it drives."""
import logging
import os
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


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and a non-zero exit."""
    from lsnet.errors import LsnetError

    _configure_logging()
    try:
        app(standalone_mode=True, prog_name="lsnet")
    except LsnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        typer.echo(f"error: {exc.strerror or exc}: {exc.filename}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # a bug, not bad input: one line unless debugging
        if os.environ.get("LSNET_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (set LSNET_DEBUG=1 for the traceback)", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
