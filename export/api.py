"""``export()``: one entry point for every format. Builds, fuses, exports, validates, then publishes."""
import importlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from torch import nn

from lsnet.errors import ParityError
from lsnet.export.artifact import staged, staged_files
from lsnet.export.formats import Format, resolve_format
from lsnet.export.metadata import RANDOM_INIT_SEED, model_metadata, timestamp, tool_versions, weights_record
from lsnet.export.options import ExportOptions, make_options
from lsnet.export.parity import ParityReport
from lsnet.runtimes.artifact_metadata import sidecar_path

log = logging.getLogger(__name__)

INPUT_NAME = "input"
OUTPUT_NAME = "logits"


@dataclass
class ExportResult:
    """What an export produced: the artifact, its sidecar, metadata and the parity report."""

    path: Path
    format: str
    metadata: dict[str, Any]
    parity: ParityReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)

    @property
    def files(self) -> list[Path]:
        """The artifact and the files published with it (OpenVINO's .bin)."""
        return [self.path, *(self.path.with_suffix(s) for s in resolve_format(self.format).companions)]


def load_hook(spec: str) -> Callable[..., Any]:
    """Import a "module:function" hook."""
    from lsnet.errors import MissingDependencyError

    module, _, func = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise MissingDependencyError(f"{module} is not part of this build of lsnet; choose another --format.") from exc


def build_reference(name: str, options: ExportOptions) -> nn.Module:
    """The unfused PyTorch model in fp32 with the reference SKA, from the weights or the seeded random init."""
    from lsnet.factory import create_model
    from lsnet.init import realistic_init
    from lsnet.labels import attach_labels

    model = create_model(
        name, num_classes=options.num_classes, img_size=options.img_size, checkpoint_path=options.weights,
        random_head=options.random_head,
    )
    if options.weights is None:
        log.warning("no --weights given: exporting randomly initialised %s; its accuracy is meaningless", name)
        realistic_init(model, RANDOM_INIT_SEED)
    if options.labels is not None:
        attach_labels(model, options.labels)
    return model


def check_requirements(fmt: Format) -> None:
    """Import the format's runtime modules before any work; a missing one raises its install hint."""
    from lsnet.deps import require

    for module in fmt.requires:
        require(module, fmt.extra, f"{fmt.name} export")


def check_target(fmt: Format, target: Path) -> None:
    """A format written as several files needs its own suffix, so the companions get the same stem."""
    from lsnet.errors import UnknownOptionError

    if fmt.companions and target.suffix.lower() != fmt.suffix:
        raise UnknownOptionError(
            f"-o {target}: {fmt.name} writes {fmt.suffix} + {' + '.join(fmt.companions)} files; give a path ending in {fmt.suffix}."
        )


def held_out_accuracy(fmt: Format, path: Path, reference: nn.Module, options: ExportOptions) -> dict[str, Any]:
    """``--eval FOLDER``: the artifact's top-1/top-5 beside PyTorch's (``export.accuracy``); a note where it cannot run here."""
    from lsnet.errors import DeviceUnavailableError, MissingDependencyError
    from lsnet.export.accuracy import evaluate_export

    runnable = load_hook(fmt.model_file)(path) if fmt.model_file else path
    try:
        return evaluate_export(runnable, reference, options, fmt.device)
    except (DeviceUnavailableError, MissingDependencyError) as exc:
        log.warning("held-out accuracy not measured: %s", exc)
        return {"folder": str(options.eval_folder), "measured": False, "reason": str(exc), "passed": True, "failures": []}


def default_output(name: str, fmt: Format, options: ExportOptions) -> Path:
    """``<name>[_fp16|_int8]<suffix>`` in the current folder (a folder for the Triton repository)."""
    tag = "" if options.precision == "fp32" else f"_{options.precision}"
    return Path(f"{name}{tag}{fmt.suffix}") if fmt.suffix else Path(f"{name}_triton_repository")


def export(model_or_name: str | nn.Module, format: str = "onnx", **options: Any) -> ExportResult:
    """Export a model (name or LSNet module) to ``format``; validate parity; publish atomically.

    On a parity failure nothing is left under the final name and ParityError is raised.
    """
    from lsnet.factory import set_ska
    from lsnet.reparam import reparameterize

    fmt = resolve_format(format)
    opts = make_options(fmt, **options)
    check_requirements(fmt)
    if isinstance(model_or_name, nn.Module):
        reference = model_or_name.eval()
        name = getattr(reference, "name", type(reference).__name__.lower())
        opts.img_size = tuple(reference.img_size)
        if opts.labels is not None:
            from lsnet.labels import attach_labels

            attach_labels(reference, opts.labels)
    else:
        name = model_or_name
        reference = build_reference(name, opts)
    ska = opts.ska or fmt.default_ska
    opts.ska = ska
    deployable = set_ska(reparameterize(reference), ska)
    target = Path(opts.output) if opts.output else default_output(name, fmt, opts)
    check_target(fmt, target)
    metadata: dict[str, Any] = {
        **model_metadata(reference, name, INPUT_NAME, OUTPUT_NAME, None if opts.dynamic_batch else opts.batch),
        "format": fmt.name,
        "precision": opts.precision,
        "ska": ska,
        "reparameterized": True,
        **weights_record(opts.weights),
        "created": timestamp(),
    }
    report: ParityReport | None = None
    if opts.eval_folder is not None:  # a bad folder fails before any export work
        from lsnet.export.accuracy import check_eval_folder

        check_eval_folder(reference, opts.eval_folder)
    with staged_files(target, fmt.companions) as temp:
        metadata.update(load_hook(fmt.exporter)(deployable, opts, temp) or {})
        metadata["versions"] = {**tool_versions(), **metadata.get("versions", {})}
        if opts.validate:
            report = load_hook(fmt.validator)(temp, reference, opts)
            metadata["parity"] = report.to_dict()
            if not report.passed:
                raise ParityError(
                    f"{fmt.name} export of {name} failed parity with PyTorch: {report.failures[0]}"
                    f" ({len(report.failures)} check(s) failed); nothing was written to {target}."
                )
        if opts.eval_folder is not None:
            metadata["accuracy"] = held_out_accuracy(fmt, temp, reference, opts)
            if opts.validate and not metadata["accuracy"]["passed"]:
                raise ParityError(
                    f"{fmt.name} export of {name} failed the accuracy check on {opts.eval_folder}:"
                    f" {metadata['accuracy']['failures'][0]}; nothing was written to {target}."
                )
        if fmt.embedder:
            load_hook(fmt.embedder)(temp, metadata)
        with staged(sidecar_path(target)) as sidecar_temp:
            sidecar_temp.write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return ExportResult(path=target, format=fmt.name, metadata=metadata, parity=report)
