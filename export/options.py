"""Export options declared once, checked against what each format accepts."""
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lsnet.choices import suggest
from lsnet.errors import ConflictingOptionsError, UnknownOptionError
from lsnet.export.formats import Format


@dataclass
class ExportOptions:
    """Everything an export can be asked for; each format accepts a subset (``Format.options``)."""

    weights: Path | None = None
    num_classes: int | None = None  # None: the checkpoint head's class count (1000 without weights)
    random_head: bool = False  # replace a checkpoint head of another class count with a random one
    labels: Path | list[str] | None = None  # class names (file or list), one per output; into the metadata
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
    model_name: str | None = None  # Triton model folder name (default: the variant, plus the precision if not fp32)
    version: int | None = None  # Triton model version (default: the next free one)

    def __post_init__(self) -> None:
        if self.int8 and self.half:
            raise ConflictingOptionsError("--half and --int8 cannot be combined: INT8 quantizes the FP32 graph; choose one precision.")
        if self.batch_range is not None:
            self.batch_range = check_batch_range(self.batch_range)
        if not 0.0 <= self.max_accuracy_drop <= 100.0:
            raise UnknownOptionError(f"--max-accuracy-drop {self.max_accuracy_drop:g} must be between 0 and 100 (top-1 points).")

    @property
    def precision(self) -> str:
        """fp32, fp16 or int8."""
        return "int8" if self.int8 else "fp16" if self.half else "fp32"


def check_batch_range(values: Any) -> tuple[int, int, int]:
    """(min, opt, max) from three integers (or their text) with 1 <= min <= opt <= max; one clear error otherwise."""
    shown = ",".join(str(v) for v in values) if isinstance(values, (list, tuple)) else repr(values)
    try:
        low, opt, high = (int(v) for v in values)
    except (TypeError, ValueError):
        raise UnknownOptionError(f"--batch-range {shown} must be three integers MIN,OPT,MAX, e.g. 1,8,64.") from None
    if not 1 <= low <= opt <= high:
        raise UnknownOptionError(f"--batch-range {shown} is invalid: MIN must be >= 1 and MIN <= OPT <= MAX, e.g. 1,8,64.")
    return low, opt, high


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
        options.half = fmt.default_half and not options.int8
    if isinstance(options.labels, str):
        options.labels = Path(options.labels)
    for name in ("weights", "output", "timing_cache", "eval_folder"):
        value = getattr(options, name)
        if value is not None and not isinstance(value, Path):
            setattr(options, name, Path(value))
    if options.batch is not None:
        if options.batch < 1:
            raise UnknownOptionError(f"batch must be >= 1, got {options.batch}.")
        options.dynamic_batch = False
    elif not options.dynamic_batch or "dynamic_batch" not in fmt.options:
        options.dynamic_batch = False  # formats without a symbolic batch axis (LiteRT) export batch 1 by default
        options.batch = 1  # --no-dynamic-batch without --batch: the usual fixed batch of one
    return options
