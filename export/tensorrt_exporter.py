"""TensorRT engine export: ONNX (FP32, FP16 or Q/DQ INT8) -> strongly typed network -> serialized engine.

Precision comes from the ONNX graph, never from builder flags: TensorRT 11 removed BuilderFlag.FP16/INT8
and the INT8 calibrators, and TensorRT 10 builds the same strongly typed network. The FP16 engine is
built from the FP16 ONNX (normalization, attention and the head kept in FP32), INT8 from the Q/DQ ONNX.
"""
import dataclasses
import logging
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from torch import nn

from lsnet.errors import LsnetError, UnknownOptionError
from lsnet.export.options import ExportOptions

log = logging.getLogger(__name__)

DEFAULT_BATCH_RANGE = (1, 8, 64)
GIB = 1 << 30


class EngineBuildError(LsnetError):
    """TensorRT could not parse the ONNX graph or build the engine."""


def default_timing_cache() -> Path:
    """~/.cache/lsnet/trt_timing.cache (XDG_CACHE_HOME respected)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "lsnet" / "trt_timing.cache"


def resolve_batch_range(options: ExportOptions) -> tuple[int, int, int]:
    """The optimization profile's batch sizes: options.batch_range, (1, 8, 64), or the fixed batch."""
    if options.dynamic_batch:
        return options.batch_range or DEFAULT_BATCH_RANGE
    fixed = options.batch or 1
    if options.batch_range is not None and tuple(options.batch_range) != (fixed,) * 3:
        raise UnknownOptionError(
            f"--batch-range applies to a dynamic batch, but the batch is fixed at {fixed}: drop --batch or --batch-range."
        )
    return fixed, fixed, fixed


def check_options(options: ExportOptions) -> tuple[int, int, int]:
    """Validate the TensorRT options before any work; returns the batch range."""
    if not options.workspace_gb > 0:
        raise UnknownOptionError(f"--workspace-gb must be > 0, got {options.workspace_gb}.")
    return resolve_batch_range(options)


def preflight_tensorrt(options: ExportOptions) -> None:
    """Options, the ONNX exporter, TensorRT and a GPU, checked before any model is built."""
    from lsnet.export.onnx_exporter import preflight_onnx
    from lsnet.runtimes.tensorrt_env import require_tensorrt_gpu

    check_options(options)
    preflight_onnx(dataclasses.replace(options, validate=False))
    require_tensorrt_gpu("TensorRT engines")


def export_tensorrt(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Build a TensorRT engine for this machine's GPU at ``path``; return its metadata."""
    from lsnet.export.artifact import remove_tree, temp_beside
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.runtimes.tensorrt_env import require_tensorrt_gpu

    check_options(options)
    require_tensorrt_gpu("TensorRT engines")
    onnx_path = temp_beside(Path(path).with_suffix(".onnx"))  # beside the engine: a killed run's leftovers get cleaned
    try:
        onnx_meta = export_onnx(model, dataclasses.replace(options, validate=False), onnx_path)
        return engine_from_onnx(onnx_path, onnx_meta, options, path)
    finally:
        remove_tree(onnx_path)


def engine_from_onnx(onnx_path: Path, onnx_meta: dict[str, Any], options: ExportOptions, path: Path) -> dict[str, Any]:
    """Build the engine of an exported ONNX graph (``onnx_meta``: what ``export_onnx`` returned) at ``path``."""
    from lsnet.runtimes.tensorrt_env import engine_environment, require_tensorrt_gpu

    batch_range = check_options(options)
    trt = require_tensorrt_gpu("TensorRT engines")
    environment = engine_environment(trt)
    started = time.perf_counter()
    engine, builder_settings = build_engine(trt, onnx_path, options, batch_range)
    builder_settings["build_seconds"] = round(time.perf_counter() - started, 1)
    Path(path).write_bytes(engine)
    return {
        "tensorrt": {
            **environment,
            "batch_range": list(batch_range),
            "precision": options.precision,
            "strongly_typed": True,
            "builder": builder_settings,
        },
        "onnx": {key: onnx_meta[key] for key in ("opset", "exporter", "simplified", "fp16", "int8") if key in onnx_meta},
        "notes": onnx_meta.get("notes", []),
        "versions": {**onnx_meta.get("versions", {}), "tensorrt": trt.__version__},
    }


def strongly_typed_flags(trt: ModuleType) -> int:
    """Network creation flags: STRONGLY_TYPED (required in TensorRT 10 for ONNX-defined precision; the default in 11)."""
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    return 0 if flag is None else 1 << int(flag)


def parse_onnx(trt: ModuleType, builder: Any, onnx_path: Path, logger: Any) -> tuple[Any, Any]:
    """(network, parser) from the ONNX file; a parse failure raises with the parser's errors on one line."""
    network = builder.create_network(strongly_typed_flags(trt))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [_parser_error(parser.get_error(i)) for i in range(parser.num_errors)] or logger.errors
        raise EngineBuildError(
            f"TensorRT {trt.__version__} cannot parse the exported ONNX graph: {' | '.join(errors) or 'no reason given'}; "
            "try another --opset or --ska, or a newer TensorRT."
        )
    return network, parser


def _parser_error(error: Any) -> str:
    """One line from an ONNX parser error: description, plus node and operator when TensorRT gives them."""
    text = " ".join(str(error.desc()).split())
    node = error.node_name() if hasattr(error, "node_name") else ""
    operator = error.node_operator() if hasattr(error, "node_operator") else ""
    where = ", ".join(part for part in (f"node {node}" if node else "", f"op {operator}" if operator else "") if part)
    return f"{text} ({where})" if where else text


def add_batch_profile(builder: Any, network: Any, config: Any, batch_range: tuple[int, int, int]) -> str:
    """Optimization profile over the batch axis of the single image input; returns the input name."""
    tensor = network.get_input(0)
    shape = tuple(tensor.shape)
    if any(dim < 0 for dim in shape[1:]):
        raise EngineBuildError(f"the ONNX input {tensor.name} has dynamic non-batch dimensions {shape}; export with a fixed --img-size.")
    if shape[0] < 0:
        profile = builder.create_optimization_profile()
        profile.set_shape(tensor.name, *[(batch, *shape[1:]) for batch in batch_range])
        config.add_optimization_profile(profile)
    elif batch_range != (shape[0],) * 3:
        raise EngineBuildError(f"the ONNX input has a fixed batch {shape[0]} but the batch range is {batch_range}.")
    return tensor.name


def load_timing_cache(config: Any, cache_path: Path) -> bool:
    """Attach the timing cache file to ``config`` (an empty cache when absent or unusable); True if loaded."""
    try:
        data = cache_path.read_bytes() if cache_path.is_file() else b""
    except OSError as exc:
        log.warning("cannot read the timing cache %s (%s); starting a new one", cache_path, exc.strerror)
        data = b""
    cache = config.create_timing_cache(data) if data else None
    if cache is not None and config.set_timing_cache(cache, ignore_mismatch=False):
        return True
    if data:
        log.warning("timing cache %s does not fit this GPU or TensorRT version; starting a new one", cache_path)
    config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)
    return False


def save_timing_cache(config: Any, cache_path: Path) -> None:
    """Write the (grown) timing cache atomically; a failure only warns (the engine is fine)."""
    from lsnet.export.artifact import staged

    try:
        with staged(cache_path) as temp:
            temp.write_bytes(memoryview(config.get_timing_cache().serialize()))
    except (OSError, LsnetError) as exc:
        log.warning("could not save the TensorRT timing cache to %s: %s", cache_path, exc)


def build_engine(trt: ModuleType, onnx_path: Path, options: ExportOptions,
                 batch_range: tuple[int, int, int]) -> tuple[bytes, dict[str, Any]]:
    """Parse, configure (profile, workspace, timing cache, progress) and build; returns (engine bytes, settings)."""
    from lsnet.export.tensorrt_progress import make_logger, make_progress_monitor

    logger = make_logger(trt)
    builder = trt.Builder(logger)
    network, _parser = parse_onnx(trt, builder, onnx_path, logger)
    config = builder.create_builder_config()
    input_name = add_batch_profile(builder, network, config, batch_range)
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_gb * GIB))
    if options.precision == "fp32" and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)  # FP32 engines stay FP32: TF32 convolutions break 1e-3 parity
    cache_path = Path(options.timing_cache) if options.timing_cache else default_timing_cache()
    cache_loaded = load_timing_cache(config, cache_path)
    monitor = make_progress_monitor(trt)
    config.progress_monitor = monitor  # must outlive the build
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        reason = " | ".join(logger.errors[-3:]) or "no reason given"
        raise EngineBuildError(
            f"TensorRT {trt.__version__} could not build the engine: {reason}; try a larger --workspace-gb or another --ska."
        )
    save_timing_cache(config, cache_path)
    settings = {
        "input": input_name,
        "workspace_gb": options.workspace_gb,
        "timing_cache": str(cache_path),
        "timing_cache_loaded": cache_loaded,
        "tf32": bool(config.get_flag(trt.BuilderFlag.TF32)) if hasattr(trt.BuilderFlag, "TF32") else None,
        "builder_flags": "none (strongly typed network: precision from the ONNX graph)",
        "onnx_opset": options.opset,
    }
    return bytes(memoryview(serialized)), settings


def validate_engine(path: Path, reference: nn.Module, options: ExportOptions) -> Any:
    """The format's validator: parity on the GPU at batches 1, 2, 3 clipped into the engine's batch range."""
    from lsnet.export.validate import run_parity

    low, _, high = resolve_batch_range(options)
    batches = sorted({min(max(batch, low), high) for batch in (1, 2, 3)})
    return run_parity(path, reference, options.precision, batches, device="cuda")
