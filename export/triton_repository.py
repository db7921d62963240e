"""Triton Inference Server model repository: <repo>/<model>/1/model.onnx|model.plan, config.pbtxt, labels.

Layout written (``path`` is the repository folder):

    path/<model_name>/config.pbtxt
    path/<model_name>/labels.txt          (class names, for Triton's classification extension)
    path/<model_name>/1/model.onnx        (backend onnxruntime / onnxruntime-gpu)
    path/<model_name>/1/model.plan        (backend tensorrt)
    path/<model_name>/1/model.<ext>.json  (the lsnet sidecar)
"""
import copy
import functools
import importlib.util
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.choices import pick
from lsnet.deps import require
from lsnet.errors import LsnetError, MissingDependencyError, UnknownOptionError
from lsnet.export.options import ExportOptions
from lsnet.export.parity import ParityReport

VERSION = "1"
LABELS_FILE = "labels.txt"
MAX_QUEUE_DELAY_US = 1000
BACKENDS = {
    # backend option -> (config key, config value, model file, instance kind)
    "onnxruntime": ("backend", "onnxruntime", "model.onnx", "KIND_CPU"),
    "onnxruntime-gpu": ("backend", "onnxruntime", "model.onnx", "KIND_GPU"),
    "tensorrt": ("platform", "tensorrt_plan", "model.plan", "KIND_GPU"),
}
ONNX_TO_TRITON = {1: "TYPE_FP32", 10: "TYPE_FP16", 11: "TYPE_FP64", 7: "TYPE_INT64", 6: "TYPE_INT32", 3: "TYPE_INT8"}


class TritonConfigError(LsnetError):
    """A generated Triton repository whose config does not match its model."""


@dataclass(frozen=True)
class TensorInfo:
    """Name, Triton data type and full dims (batch first, -1 when dynamic) of one graph input or output."""

    name: str
    data_type: str
    dims: tuple[int, ...]


def model_name(model: nn.Module, options: ExportOptions) -> str:
    """Repository entry name: the variant plus the precision when not FP32 (lsnet_t, lsnet_t_int8)."""
    base = getattr(model, "name", None) or getattr(getattr(model, "model", None), "name", None) or "lsnet"
    return base if options.precision == "fp32" else f"{base}_{options.precision}"


def onnx_io(path: Path) -> tuple[TensorInfo, TensorInfo]:
    """(input, output) of a single-input single-output ONNX graph."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    inputs = [v for v in graph.input if v.name not in initializers]

    def info(value: Any) -> TensorInfo:
        tensor = value.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
        return TensorInfo(value.name, ONNX_TO_TRITON.get(tensor.elem_type, f"onnx elem type {tensor.elem_type}"), dims)

    return info(inputs[0]), info(graph.output[0])


def preferred_batch_sizes(max_batch: int) -> list[int]:
    """Powers of two from 4 up to ``max_batch``, plus ``max_batch`` itself."""
    sizes = [b for b in (4, 8, 16, 32, 64, 128) if b < max_batch]
    return sizes[-2:] + [max_batch]


def render_config(name: str, backend: str, inp: TensorInfo, out: TensorInfo, max_batch: int, instances: int) -> str:
    """config.pbtxt text. ``max_batch`` 0 means a fixed-batch model: full dims, no dynamic batching."""
    key, value, filename, kind = BACKENDS[backend]
    batched = max_batch > 0
    in_dims = inp.dims[1:] if batched else inp.dims
    out_dims = out.dims[1:] if batched else out.dims

    def dims(values: tuple[int, ...]) -> str:
        return "[ " + ", ".join(str(v) for v in values) + " ]"

    lines = [
        f'name: "{name}"',
        f'{key}: "{value}"',
        f'default_model_filename: "{filename}"',
        f"max_batch_size: {max_batch}",
        "input [",
        "  {",
        f'    name: "{inp.name}"',
        f"    data_type: {inp.data_type}",
        "    format: FORMAT_NCHW",
        f"    dims: {dims(in_dims)}",
        "  }",
        "]",
        "output [",
        "  {",
        f'    name: "{out.name}"',
        f"    data_type: {out.data_type}",
        f"    dims: {dims(out_dims)}",
        f'    label_filename: "{LABELS_FILE}"',
        "  }",
        "]",
    ]
    if batched:
        lines += [
            "dynamic_batching {",
            f"  preferred_batch_size: {dims(tuple(preferred_batch_sizes(max_batch)))}",
            f"  max_queue_delay_microseconds: {MAX_QUEUE_DELAY_US}",
            "}",
        ]
    lines += ["instance_group [", "  {", f"    count: {instances}", f"    kind: {kind}", "  }", "]"]
    return "\n".join(lines) + "\n"


def export_triton_repository(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """The format hook: write the repository folder at ``path`` (a staged directory)."""
    from lsnet.export.api import load_hook
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.labels import labels_for

    backend = pick("Triton backend", options.backend, BACKENDS, UnknownOptionError)
    if options.instances < 1 or options.max_batch < 1:
        raise UnknownOptionError("--instances and --max-batch must be >= 1 for a Triton repository.")
    name = model_name(model, options)
    version_dir = Path(path) / name / VERSION
    version_dir.mkdir(parents=True)
    filename = BACKENDS[backend][2]
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = version_dir / filename if filename.endswith(".onnx") else Path(tmp) / "model.onnx"
        meta = export_onnx(model, options, onnx_path)
        inp, out = onnx_io(onnx_path)
        if backend == "tensorrt":
            trt_options = copy.copy(options)
            if options.dynamic_batch and options.batch_range is None:
                trt_options.batch_range = (1, max(1, options.max_batch // 2), options.max_batch)
            try:
                trt = load_hook("lsnet.export.tensorrt_exporter:export_tensorrt")
            except ModuleNotFoundError as exc:
                raise MissingDependencyError("the TensorRT exporter is not available in this build of lsnet; use --backend onnxruntime.") from exc
            meta["tensorrt"] = trt(model, trt_options, version_dir / filename)
    max_batch = options.max_batch if options.dynamic_batch else 0
    config = render_config(name, backend, inp, out, max_batch, options.instances)
    (Path(path) / name / "config.pbtxt").write_text(config)
    num_classes = out.dims[-1]
    (Path(path) / name / LABELS_FILE).write_text("\n".join(labels_for(num_classes, model.pretrained_cfg.labels)) + "\n")
    meta["triton"] = {
        "model_name": name,
        "version": VERSION,
        "model_file": f"{name}/{VERSION}/{filename}",
        "backend": backend,
        "max_batch_size": max_batch,
        "instances": options.instances,
        "instance_kind": BACKENDS[backend][3],
        "input": {"name": inp.name, "dims": list(inp.dims), "data_type": inp.data_type},
        "output": {"name": out.name, "dims": list(out.dims), "data_type": out.data_type},
        "dynamic_batching": {"preferred_batch_size": preferred_batch_sizes(options.max_batch), "max_queue_delay_microseconds": MAX_QUEUE_DELAY_US} if max_batch else None,
    }
    return meta


def embed_triton_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """Embedder hook: the sidecar beside the model file (and inside it for ONNX), so runners find it."""
    from lsnet.export.artifact import write_json_atomic
    from lsnet.runtimes.artifact_metadata import sidecar_path
    from lsnet.export.onnx_exporter import embed_onnx_metadata

    model_file = Path(path) / metadata["triton"]["model_file"]
    if model_file.suffix == ".onnx":
        embed_onnx_metadata(model_file, metadata)
    write_json_atomic(sidecar_path(model_file), metadata)


@functools.cache
def model_config_pb2() -> Any:
    """Triton's ModelConfig protobuf module from tritonclient (works with tritonclient[http] without grpcio)."""
    require("tritonclient", "tritonserver", "checking Triton model configs")
    require("google.protobuf", "tritonserver", "checking Triton model configs")
    try:
        from tritonclient.grpc import model_config_pb2 as module
    except (ImportError, RuntimeError):  # tritonclient.grpc refuses to import without grpcio; the module itself does not need it
        spec = importlib.util.find_spec("tritonclient")
        source = Path(next(iter(spec.submodule_search_locations))) / "grpc" / "model_config_pb2.py"
        if not source.is_file():
            raise MissingDependencyError('tritonclient has no model_config_pb2: pip install "lsnet[tritonserver]"') from None
        loader_spec = importlib.util.spec_from_file_location("lsnet_triton_model_config_pb2", source)
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    return module


def parse_config(config_path: Path) -> Any:
    """config.pbtxt parsed into Triton's ``inference.ModelConfig``; a clear error when it does not parse."""
    from google.protobuf import text_format

    message = model_config_pb2().ModelConfig()
    try:
        text_format.Parse(config_path.read_text(), message)
    except text_format.ParseError as exc:
        raise TritonConfigError(f"{config_path} is not a valid Triton model config: {exc}; re-export the repository.") from None
    return message


def find_model_dir(repository: Path) -> Path:
    """The single model folder (with a config.pbtxt) in ``repository``."""
    found = sorted(p.parent for p in Path(repository).glob("*/config.pbtxt"))
    if len(found) != 1:
        raise TritonConfigError(f"{repository} should hold exactly one model folder with a config.pbtxt, found {len(found)}; re-export it.")
    return found[0]


def check_config(model_dir: Path) -> tuple[Any, Path]:
    """Parse config.pbtxt with Triton's protobuf and check it against the model file; (config, model file)."""
    config = parse_config(model_dir / "config.pbtxt")
    problems = []
    if config.name != model_dir.name:
        problems.append(f"config name '{config.name}' differs from the folder '{model_dir.name}'")
    model_file = model_dir / VERSION / (config.default_model_filename or "model.onnx")
    if not model_file.is_file():
        raise TritonConfigError(f"{model_file} is missing from the repository; re-export it.")
    onnx_file = model_file if model_file.suffix == ".onnx" else None
    if onnx_file is not None:
        if config.backend != "onnxruntime" and config.platform != "onnxruntime_onnx":
            problems.append(f"an ONNX model needs backend onnxruntime, config has backend '{config.backend}' platform '{config.platform}'")
        inp, out = onnx_io(onnx_file)
        batched = config.max_batch_size > 0
        for label, spec, tensor in (("input", config.input, inp), ("output", config.output, out)):
            if len(spec) != 1:
                problems.append(f"config has {len(spec)} {label}s, the model has 1")
                continue
            expected = list(tensor.dims[1:] if batched else tensor.dims)
            if spec[0].name != tensor.name:
                problems.append(f"{label} name '{spec[0].name}' differs from the ONNX graph's '{tensor.name}'")
            if list(spec[0].dims) != expected:
                problems.append(f"{label} dims {list(spec[0].dims)} differ from the ONNX graph's {expected}")
            if model_config_pb2().DataType.Name(spec[0].data_type) != tensor.data_type:
                problems.append(f"{label} data type {model_config_pb2().DataType.Name(spec[0].data_type)} differs from the ONNX graph's {tensor.data_type}")
        if batched and inp.dims and inp.dims[0] != -1:
            problems.append(f"max_batch_size {config.max_batch_size} needs a dynamic batch axis, the ONNX input is {list(inp.dims)}")
    elif config.platform != "tensorrt_plan":
        problems.append(f"a TensorRT plan needs platform tensorrt_plan, config has '{config.platform}'")
    if config.HasField("dynamic_batching"):
        too_big = [b for b in config.dynamic_batching.preferred_batch_size if b > config.max_batch_size]
        if too_big:
            problems.append(f"preferred batch sizes {too_big} exceed max_batch_size {config.max_batch_size}")
    labels = [o.label_filename for o in config.output if o.label_filename]
    for name in labels:
        lines = (model_dir / name).read_text().splitlines() if (model_dir / name).is_file() else []
        classes = config.output[0].dims[-1]
        if len(lines) != classes:
            problems.append(f"label file {name} has {len(lines)} lines for {classes} classes")
    if problems:
        raise TritonConfigError(f"Triton config of {model_dir.name} is inconsistent: {'; '.join(problems)}. Re-export the repository.")
    return config, model_file


def repository_model_file(path: Path) -> Path:
    """The model file of a repository (what a runner opens), after checking its config."""
    return check_config(find_model_dir(Path(path)))[1]


def validate_triton_repository(path: Path, reference: nn.Module, options: ExportOptions) -> ParityReport:
    """Validator hook: config checked with Triton's protobuf, then model parity through the generic validator."""
    from lsnet.export.validate import validate_with_runner

    model_file = repository_model_file(path)
    report = validate_with_runner(model_file, reference, options)
    report.notes.append(f"config.pbtxt parsed with Triton's ModelConfig protobuf; parity measured on {model_file.relative_to(path)}")
    return report
