"""Triton Inference Server model repository: one export adds or replaces one model version.

Layout (``models`` is the repository folder given with ``-o``; other models and versions are left alone):

    models/<model_name>/config.pbtxt
    models/<model_name>/labels.txt              (class names, for Triton's classification extension)
    models/<model_name>/<version>/model.onnx    (backend onnxruntime / onnxruntime-gpu)
    models/<model_name>/<version>/model.plan    (backend tensorrt)
    models/<model_name>/<version>/model.<ext>.json  (the lsnet sidecar)

The version folder is built under a temporary name inside the model folder (Triton ignores non-numeric
version folders) and renamed into place; config.pbtxt and labels.txt are then replaced by rename.
"""
import copy
import functools
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.choices import pick
from lsnet.deps import require
from lsnet.errors import LsnetError, MissingDependencyError, OutputPathError, UnknownOptionError
from lsnet.export.options import ExportOptions
from lsnet.export.parity import ParityReport

DEFAULT_REPOSITORY = "model_repository"
CONFIG_FILE = "config.pbtxt"
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


def default_model_name(name: str, options: ExportOptions) -> str:
    """Repository entry name: the variant plus the precision when not FP32 (lsnet_t, lsnet_t_int8)."""
    return name if options.precision == "fp32" else f"{name}_{options.precision}"


def check_model_name(name: str) -> str:
    """A model name that is one plain folder name."""
    if not name or name in (".", "..") or name.startswith(".") or "/" in name or os.sep in name:
        raise UnknownOptionError(f"--model-name '{name}' must be a plain folder name such as lsnet_t.")
    return name


def versions(model_dir: Path) -> list[int]:
    """The version numbers Triton sees in a model folder (numeric folder names without a leading zero)."""
    if not model_dir.is_dir():
        return []
    found = [p.name for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(int(n) for n in found if n == str(int(n)))


def lsnet_sidecars(version_dir: Path) -> list[dict[str, Any]]:
    """The lsnet sidecars of Triton exports in a version folder."""
    found = []
    for path in sorted(version_dir.glob("model.*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("format") == "triton":
            found.append(data)
    return found


def place_version(output: Path | None, name: str, options: ExportOptions) -> Path:
    """Placer hook: the version folder this export writes, ``<repository>/<model>/<version>``; refuses before
    any work to touch a model or version that lsnet did not write. Sets ``options.model_name``/``version``."""
    check_options(options)  # TensorRT and a GPU for the tensorrt backend: preflight_triton
    repository = Path(output) if output is not None else Path(DEFAULT_REPOSITORY)
    if repository.exists() and not repository.is_dir():
        raise OutputPathError(f"{repository} is a file, and a Triton model repository is a folder: choose another -o path.")
    options.model_name = check_model_name(options.model_name or default_model_name(name, options))
    model_dir = repository / options.model_name
    if model_dir.exists() and not model_dir.is_dir():
        raise OutputPathError(f"{model_dir} is a file, not a model folder: choose another --model-name.")
    existing = versions(model_dir)
    if (model_dir / CONFIG_FILE).exists() and not any(lsnet_sidecars(model_dir / str(v)) for v in existing):
        raise OutputPathError(
            f"{model_dir} holds a model that lsnet did not export; it is left alone: choose another --model-name."
        )
    if options.version is None:
        options.version = max(existing, default=0) + 1
    elif options.version < 1:
        raise UnknownOptionError(f"--version must be >= 1, got {options.version}.")
    target = model_dir / str(options.version)
    if target.exists() and not lsnet_sidecars(target):
        raise OutputPathError(f"{target} was not exported by lsnet; it is left alone: choose another --version.")
    return target


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


def check_options(options: ExportOptions) -> str:
    """The Triton backend for ``options`` (with a close-match hint), after checking the counts."""
    backend = pick("Triton backend", options.backend, BACKENDS, UnknownOptionError)
    if options.instances < 1 or options.max_batch < 1:
        raise UnknownOptionError("--instances and --max-batch must be >= 1 for a Triton repository.")
    return backend


def preflight_triton(options: ExportOptions) -> None:
    """Options, the model exporter of the backend and the config checker, checked before any model is built."""
    from lsnet.export.onnx_exporter import preflight_onnx

    backend = check_options(options)
    preflight_onnx(options)
    if backend == "tensorrt":
        from lsnet.export.tensorrt_exporter import preflight_tensorrt

        preflight_tensorrt(options)
    if options.validate:
        model_config_pb2()


def tensorrt_options(options: ExportOptions) -> ExportOptions:
    """The engine options of the tensorrt backend: a dynamic batch profile up to --max-batch."""
    trt_options = copy.copy(options)
    if options.dynamic_batch and options.batch_range is None:
        trt_options.batch_range = (1, max(1, options.max_batch // 2), options.max_batch)
    return trt_options


def export_triton_repository(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Exporter hook: the version folder at ``path`` (staged) with its model file, plus the config.pbtxt and
    labels.txt that ``publish_version`` moves up into the model folder."""
    from lsnet.export.api import load_hook
    from lsnet.export.artifact import remove_tree
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.labels import labels_for

    backend = check_options(options)
    name = options.model_name or default_model_name(getattr(model, "name", "lsnet"), options)
    path = Path(path)
    path.mkdir()
    filename = BACKENDS[backend][2]
    onnx_path = path / "model.onnx"
    meta = export_onnx(model, options, onnx_path)
    inp, out = onnx_io(onnx_path)
    if backend == "tensorrt":
        try:
            engine_from_onnx = load_hook("lsnet.export.tensorrt_exporter:engine_from_onnx")
        except MissingDependencyError as exc:
            raise MissingDependencyError("the TensorRT exporter is not available in this build of lsnet; use --backend onnxruntime.") from exc
        trt_meta = engine_from_onnx(onnx_path, meta, tensorrt_options(options), path / filename)
        remove_tree(onnx_path)
        meta["tensorrt"] = trt_meta["tensorrt"]
        meta["versions"] = {**meta.get("versions", {}), **trt_meta["versions"]}
    max_batch = options.max_batch if options.dynamic_batch else 0
    (path / CONFIG_FILE).write_text(render_config(name, backend, inp, out, max_batch, options.instances))
    (path / LABELS_FILE).write_text("\n".join(labels_for(out.dims[-1], model.pretrained_cfg.labels)) + "\n")
    meta["triton"] = {
        "model_name": name,
        "version": str(options.version),
        "model_file": filename,
        "backend": backend,
        "max_batch_size": max_batch,
        "instances": options.instances,
        "instance_kind": BACKENDS[backend][3],
        "input": {"name": inp.name, "dims": list(inp.dims), "data_type": inp.data_type},
        "output": {"name": out.name, "dims": list(out.dims), "data_type": out.data_type},
        "dynamic_batching": {"preferred_batch_size": preferred_batch_sizes(options.max_batch), "max_queue_delay_microseconds": MAX_QUEUE_DELAY_US} if max_batch else None,
    }
    return meta


def embed_triton_metadata(path: Path, metadata: dict[str, Any]) -> Path:
    """Embedder hook: the sidecar beside the model file inside the version folder (and inside the ONNX file),
    so runners opening the model file find it; returns the sidecar's path."""
    from lsnet.runtimes.artifact_metadata import sidecar_path
    from lsnet.export.onnx_exporter import embed_onnx_metadata

    model_file = Path(path) / metadata["triton"]["model_file"]
    if model_file.suffix == ".onnx":
        embed_onnx_metadata(model_file, metadata)
    sidecar = sidecar_path(model_file)
    sidecar.write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return sidecar


SHARED_KEYS = ("backend", "max_batch_size", "input", "output")  # what config.pbtxt fixes for every version


def check_fits_other_versions(temp: Path, target: Path) -> None:
    """Refuse a version whose inputs, outputs or backend differ from the model's other versions, which share
    one config.pbtxt (they would stop loading in Triton)."""
    new = next(iter(lsnet_sidecars(temp)), {}).get("triton", {})
    for version in versions(target.parent):
        if str(version) == target.name:
            continue
        for old in lsnet_sidecars(target.parent / str(version)):
            differs = [k for k in SHARED_KEYS if old.get("triton", {}).get(k) != new.get(k)]
            if differs:
                raise OutputPathError(
                    f"version {version} of {target.parent} has another {', '.join(differs)}, and all versions share one"
                    f" config.pbtxt; nothing was written: choose another --model-name."
                )


def publish_version(temp: Path, target: Path) -> None:
    """Publisher hook: rename the version folder into place, then replace config.pbtxt and labels.txt by rename."""
    from lsnet.export.artifact import publish, temp_beside

    check_fits_other_versions(temp, target)
    model_dir = target.parent
    moved = []
    for filename in (LABELS_FILE, CONFIG_FILE):  # config last: it names the labels file
        staged_file = temp_beside(model_dir / filename)
        os.replace(temp / filename, staged_file)
        moved.append((staged_file, model_dir / filename))
    publish(temp, target)
    for staged_file, final in moved:
        os.replace(staged_file, final)


@functools.cache
def model_config_pb2() -> Any:
    """Triton's ModelConfig protobuf module from tritonclient (works with tritonclient[http] without grpcio)."""
    require("tritonclient", "triton-server", "checking Triton model configs")
    require("google.protobuf", "triton-server", "checking Triton model configs")
    try:
        from tritonclient.grpc import model_config_pb2 as module
    except (ImportError, RuntimeError):  # tritonclient.grpc refuses to import without grpcio; the module itself does not need it
        spec = importlib.util.find_spec("tritonclient")
        source = Path(next(iter(spec.submodule_search_locations))) / "grpc" / "model_config_pb2.py"
        if not source.is_file():
            raise MissingDependencyError('tritonclient has no model_config_pb2: pip install "lsnet[triton-server]"') from None
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


def check_config(config_path: Path, model_file: Path, name: str) -> Any:
    """Parse config.pbtxt with Triton's protobuf and check it against the model file and the labels beside it."""
    config = parse_config(config_path)
    problems = []
    if config.name != name:
        problems.append(f"config name '{config.name}' differs from the folder '{name}'")
    if not model_file.is_file():
        raise TritonConfigError(f"{model_file} is missing from the repository; re-export it.")
    if config.default_model_filename and config.default_model_filename != model_file.name:
        problems.append(f"default_model_filename '{config.default_model_filename}' differs from {model_file.name}")
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
    for label_file in [o.label_filename for o in config.output if o.label_filename]:
        path = config_path.parent / label_file
        lines = path.read_text().splitlines() if path.is_file() else []
        classes = config.output[0].dims[-1]
        if len(lines) != classes:
            problems.append(f"label file {label_file} has {len(lines)} lines for {classes} classes")
    if problems:
        raise TritonConfigError(f"Triton config of {name} is inconsistent: {'; '.join(problems)}. Re-export the repository.")
    return config


def repository_model_file(path: Path, options: ExportOptions) -> Path:
    """The model file of a staged version folder (what a runner opens)."""
    return Path(path) / BACKENDS[pick("Triton backend", options.backend, BACKENDS, UnknownOptionError)][2]


def validate_triton_repository(path: Path, reference: nn.Module, options: ExportOptions) -> ParityReport:
    """Validator hook on the staged version folder: config checked with Triton's protobuf, then parity of the
    model file through its runner (a TensorRT plan on the GPU, as the TensorRT runner requires)."""
    from lsnet.export.validate import validate_with_runner

    name = options.model_name or Path(path).parent.name
    model_file = Path(path) / BACKENDS[pick("Triton backend", options.backend, BACKENDS, UnknownOptionError)][2]
    check_config(Path(path) / CONFIG_FILE, model_file, name)
    if model_file.suffix == ".plan":
        from lsnet.export.tensorrt_exporter import validate_engine

        report = validate_engine(model_file, reference, tensorrt_options(options))
    else:
        report = validate_with_runner(model_file, reference, options)
    report.notes.append(f"config.pbtxt parsed with Triton's ModelConfig protobuf; parity measured on {name}/{options.version}/{model_file.name}")
    return report
