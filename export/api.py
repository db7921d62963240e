"""``export()``: one entry point for every format. Builds, fuses, exports, validates, then publishes."""
import importlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from torch import nn

from lsnet.errors import ParityError
from lsnet.export.artifact import check_writable, publish, remove_empty, staged, staged_files
from lsnet.export.formats import Format, resolve_format
from lsnet.export.metadata import RANDOM_INIT_SEED, model_metadata, timestamp, tool_versions, weights_record
from lsnet.export.options import ExportOptions, make_options
from lsnet.export.output_path import place_output
from lsnet.export.parity import ParityReport
from lsnet.export.progress import stage
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
    sidecar: Path | None = None

    def __post_init__(self) -> None:
        if self.sidecar is None:
            self.sidecar = sidecar_path(self.path)

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
        realistic_init(model, RANDOM_INIT_SEED)
    if options.labels is not None:
        attach_labels(model, options.labels)
    return model


def check_requirements(fmt: Format) -> None:
    """Import the format's runtime modules before any work (what their imports print goes to the debug log); a
    missing one raises its install hint."""
    from lsnet.deps import require
    from lsnet.runtimes.native_output import chatter_to_debug

    for module in fmt.requires:
        with chatter_to_debug(module):
            require(module, fmt.extra, f"{fmt.name} export")


def check_target(fmt: Format, target: Path) -> None:
    """A format written as several files needs its own suffix, so the companions get the same stem; a companion
    name that is another format's file (OpenVINO's and ncnn's weights are both ``<stem>.bin``) is refused."""
    from lsnet.errors import OutputPathError, UnknownOptionError
    from lsnet.export.formats import FORMATS

    if fmt.companions and target.suffix.lower() != fmt.suffix:
        raise UnknownOptionError(
            f"-o {target}: {fmt.name} writes {fmt.suffix} + {' + '.join(fmt.companions)} files; give a path ending in {fmt.suffix}."
        )
    for suffix in fmt.companions:
        for other in FORMATS.values():
            owner = target.with_suffix(other.suffix)
            if other is not fmt and suffix in other.companions and owner.is_file() and target.with_suffix(suffix).exists():
                raise OutputPathError(
                    f"{target.with_suffix(suffix)} is the weights file of the {other.name} model {owner.name}; it is left"
                    f" alone: choose another -o name (the default is <model>{fmt.name_tag}{fmt.suffix})."
                )


def held_out_accuracy(fmt: Format, path: Path, reference: nn.Module, options: ExportOptions) -> dict[str, Any]:
    """``--eval FOLDER``: the artifact's top-1/top-5 beside PyTorch's (``export.accuracy``); a note where it cannot run here."""
    from lsnet.errors import DeviceUnavailableError, MissingDependencyError
    from lsnet.export.accuracy import evaluate_export

    runnable = load_hook(fmt.model_file)(path, options) if fmt.model_file else path
    try:
        return evaluate_export(runnable, reference, options, fmt.device)
    except (DeviceUnavailableError, MissingDependencyError) as exc:
        log.warning("held-out accuracy not measured: %s", exc)
        return {"folder": str(options.eval_folder), "measured": False, "reason": str(exc), "passed": True, "failures": []}


def output_target(name: str, fmt: Format, options: ExportOptions) -> Path:
    """Where the artifact goes: the format's own placement (Triton: a version folder) or ``place_output``."""
    if fmt.placer:
        return load_hook(fmt.placer)(options.output, name, options)
    target = place_output(options.output, name, fmt, options.precision)
    check_target(fmt, target)
    return target


def export(model_or_name: str | nn.Module, format: str = "onnx", **options: Any) -> ExportResult:
    """Export a model (name or LSNet module) to ``format``; validate parity; publish atomically.

    Packages, devices, options and the output folder are checked before any model is built; the
    stages (build, fuse, export, simplify, validate, write) go to the display installed with
    ``lsnet.export.progress.reporting``. On a parity failure nothing is left under the final name
    and ParityError is raised.
    """
    from lsnet.choices import pick
    from lsnet.errors import UnknownModelError
    from lsnet.factory import parse_img_size, set_ska
    from lsnet.init import warn_random_weights
    from lsnet.reparam import reparameterize
    from lsnet.variants import VARIANTS

    fmt = resolve_format(format)
    opts = make_options(fmt, **options)
    given = model_or_name if isinstance(model_or_name, nn.Module) else None
    name = getattr(given, "name", type(given).__name__.lower()) if given is not None else str(model_or_name)
    if given is None:  # a bad model name or size fails first, as it would when building
        pick("model", name, VARIANTS, UnknownModelError)
        parse_img_size(opts.img_size)
    target = output_target(name, fmt, opts)  # refuses a bad -o before any work
    check_requirements(fmt)
    if fmt.preflight:
        load_hook(fmt.preflight)(opts)
    remove_empty(check_writable(target))  # an unwritable -o fails here; the folders it made are removed again
    if given is None and opts.weights is None:
        warn_random_weights(name)
    with stage("build", name):
        if given is not None:
            reference = given.eval()
            opts.img_size = tuple(reference.img_size)
            if opts.labels is not None:
                from lsnet.labels import attach_labels

                attach_labels(reference, opts.labels)
        else:
            reference = build_reference(name, opts)
    ska = opts.ska or fmt.default_ska
    opts.ska = ska
    with stage("fuse", f"re-parameterize, SKA {ska}"):
        deployable = set_ska(reparameterize(reference), ska)
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
    sidecar = sidecar_path(target)
    with staged_files(target, fmt.companions, load_hook(fmt.publisher) if fmt.publisher else publish) as temp:
        with stage("export", f"{fmt.name}, {opts.precision}"):
            metadata.update(load_hook(fmt.exporter)(deployable, opts, temp) or {})
        metadata["versions"] = {**tool_versions(), **metadata.get("versions", {})}
        if opts.validate:
            with stage("validate", "parity with PyTorch"):
                report = load_hook(fmt.validator)(temp, reference, opts)
            metadata["parity"] = report.to_dict()
            if not report.passed:
                raise ParityError(
                    f"{fmt.name} export of {name} failed parity with PyTorch: {report.failures[0]}"
                    f" ({len(report.failures)} check(s) failed); nothing was written to {target}."
                )
        if opts.eval_folder is not None:
            with stage("validate", f"held-out accuracy on {opts.eval_folder}"):
                metadata["accuracy"] = held_out_accuracy(fmt, temp, reference, opts)
            if opts.validate and not metadata["accuracy"]["passed"]:
                raise ParityError(
                    f"{fmt.name} export of {name} failed the accuracy check on {opts.eval_folder}:"
                    f" {metadata['accuracy']['failures'][0]}; nothing was written to {target}."
                )
        with stage("write", str(target)):
            inner_sidecar = load_hook(fmt.embedder)(temp, metadata) if fmt.embedder else None
            if inner_sidecar is not None:  # the format keeps its sidecar inside the artifact (Triton version folder)
                sidecar = target / Path(inner_sidecar).relative_to(temp)
            else:
                with staged(sidecar) as sidecar_temp:
                    sidecar_temp.write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return ExportResult(path=target, format=fmt.name, metadata=metadata, parity=report, sidecar=sidecar)
