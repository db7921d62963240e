"""Export options declared once, checked against what each format accepts."""
from dataclasses import dataclass, fields
from pathlib import Path

from lsnet.choices import suggest
from lsnet.errors import UnknownOptionError
from lsnet.export.formats import Format


@dataclass
class ExportOptions:
    """Everything an export can be asked for; each format accepts a subset (``Format.options``)."""

    weights: Path | None = None
    img_size: int | tuple[int, int] = 224
    ska: str | None = None  # None: the format's default formulation
    output: Path | None = None
    half: bool | None = None  # None: the format's default precision (Format.default_half)
    validate: bool = True
    eval_folder: Path | None = None  # labelled folder (one subfolder per class): held-out accuracy in the gate
    max_accuracy_drop: float = 1.0  # top-1 points an export may lose against its reference on eval_folder
    batch: int | None = None  # fixed batch; None with dynamic_batch
    dynamic_batch: bool = True
    opset: int = 18
    simplify: bool = True
    rewrites: str = "all"  # ONNX Runtime layout rewrites: all, none or a comma list (export/onnx_rewrites.py)
    baseline: bool = False  # the straightforward export kept as a performance baseline
    int8: bool = False
    calib: str | None = None  # image folder or a number of synthetic images
    int8_threshold: float = 0.95  # minimum top-1 agreement with FP32 on held-out images for an INT8 export
    batch_range: tuple[int, int, int] | None = None  # (min, opt, max)
    workspace_gb: float = 4.0
    timing_cache: Path | None = None
    deployment_target: str = "iOS16"
    max_batch: int = 32
    instances: int = 1
    backend: str = "onnxruntime"

    @property
    def precision(self) -> str:
        """fp32, fp16 or int8."""
        return "int8" if self.int8 else "fp16" if self.half else "fp32"


OPTION_NAMES = frozenset(f.name for f in fields(ExportOptions))


def make_options(fmt: Format, **given: object) -> ExportOptions:
    """Build options for ``fmt``; an option the format does not take is rejected with the valid ones."""
    for name, value in given.items():
        if name not in OPTION_NAMES:
            raise UnknownOptionError(f"unknown export option '{name}'.{suggest(name, OPTION_NAMES)}")
        default = ExportOptions.__dataclass_fields__[name].default
        if name not in fmt.options and value != default:
            raise UnknownOptionError(
                f"--{name.replace('_', '-')} does not apply to format '{fmt.name}'; it takes: "
                + ", ".join(sorted(fmt.options)) + "."
            )
    options = ExportOptions(**{k: v for k, v in given.items()})
    if options.half is None:
        options.half = fmt.default_half
    for name in ("weights", "output", "timing_cache", "eval_folder"):
        value = getattr(options, name)
        if value is not None and not isinstance(value, Path):
            setattr(options, name, Path(value))
    from lsnet.export.accuracy import check_max_drop

    check_max_drop(options.max_accuracy_drop)
    if options.batch is not None:
        if options.batch < 1:
            raise UnknownOptionError(f"batch must be >= 1, got {options.batch}.")
        options.dynamic_batch = False
    elif not options.dynamic_batch:
        options.batch = 1  # --no-dynamic-batch without --batch: the usual fixed batch of one
    return options
