"""The table of export formats: names, aliases, suffixes, accepted options and their hooks."""
from dataclasses import dataclass

from lsnet.choices import suggest
from lsnet.errors import UnknownOptionError

COMMON_OPTIONS = frozenset({
    "weights", "num_classes", "random_head", "labels", "img_size", "ska", "output", "half", "validate", "batch", "dynamic_batch",
    "eval_folder", "max_accuracy_drop",
})


@dataclass(frozen=True)
class Format:
    """One export format. Hooks are "module:function" strings, imported only when used.

    - ``exporter(model, options, path) -> dict``: writes the artifact at ``path`` and returns
      format-specific metadata;
    - ``validator(path, reference, options) -> ParityReport``: parity against PyTorch;
    - ``embedder(path, metadata) -> Path | None``: writes the final metadata into the artifact itself
      (optional); a returned path is a sidecar it wrote inside the artifact, and no sidecar is written beside it;
    - ``placer(output, name, options) -> Path``: where the artifact goes (optional; default
      ``output_path.place_output``);
    - ``publisher(temp, target)``: moves the finished temporary artifact into place (optional; default
      ``artifact.publish``, one rename);
    - ``preflight(options)``: checks packages, devices and option combinations before any model is built.
    - ``model_file(path, options) -> Path``: the file a runner opens, for artifacts that are folders (optional).
    """

    name: str
    aliases: tuple[str, ...]
    suffix: str
    exporter: str
    validator: str
    options: frozenset[str]
    extra: str
    description: str
    embedder: str | None = None
    placer: str | None = None
    publisher: str | None = None
    preflight: str | None = None
    model_file: str | None = None
    device: str = "cpu"  # where the artifact runs for --eval
    is_directory: bool = False
    companions: tuple[str, ...] = ()  # suffixes of files written beside the artifact and published with it
    requires: tuple[str, ...] = ()  # modules checked before any export work (missing -> the extra's install hint)
    default_ska: str = "shift"
    default_half: bool = False  # precision when neither --half nor --fp32 is given
    name_tag: str = ""  # between the model name and the suffix in the default file name


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            name="onnx",
            aliases=("onnxruntime", "ort"),
            suffix=".onnx",
            exporter="lsnet.export.onnx_exporter:export_onnx",
            validator="lsnet.export.validate:validate_with_runner",
            embedder="lsnet.export.onnx_exporter:embed_onnx_metadata",
            preflight="lsnet.export.onnx_exporter:preflight_onnx",
            options=COMMON_OPTIONS | {"opset", "simplify", "rewrites", "baseline", "int8", "calib", "int8_threshold"},
            extra="onnx",
            description="ONNX graph for ONNX Runtime and other ONNX consumers",
            default_ska="conv_im2col",  # fastest in ONNX Runtime on CPU (docs/onnx.md)
        ),
        Format(
            name="trt",
            aliases=("tensorrt", "engine", "plan"),
            suffix=".engine",
            exporter="lsnet.export.tensorrt_exporter:export_tensorrt",
            validator="lsnet.export.tensorrt_exporter:validate_engine",
            preflight="lsnet.export.tensorrt_exporter:preflight_tensorrt",
            options=COMMON_OPTIONS | {"opset", "batch_range", "workspace_gb", "timing_cache", "int8", "calib"},
            extra="trt",
            device="cuda",
            description="serialized TensorRT engine for one GPU architecture and TensorRT version",
        ),
        Format(
            name="coreml",
            aliases=("mlpackage", "mlmodel", "apple"),
            suffix=".mlpackage",
            exporter="lsnet.export.coreml_exporter:export_coreml",
            validator="lsnet.export.coreml_validate:validate_coreml",
            preflight="lsnet.export.coreml_exporter:preflight_coreml",
            options=COMMON_OPTIONS | {"batch_range", "deployment_target"},
            extra="coreml",
            description="Core ML ML Program for iPhone, iPad and Mac",
            is_directory=True,
            default_half=True,  # ML Programs compute in FP16 by default; the Neural Engine runs FP16 only
        ),
        Format(
            name="triton",
            aliases=("triton-server", "tritonserver", "model-repository"),
            suffix="",
            exporter="lsnet.export.triton_repository:export_triton_repository",
            validator="lsnet.export.triton_repository:validate_triton_repository",
            embedder="lsnet.export.triton_repository:embed_triton_metadata",
            model_file="lsnet.export.triton_repository:repository_model_file",
            preflight="lsnet.export.triton_repository:preflight_triton",
            placer="lsnet.export.triton_repository:place_version",
            publisher="lsnet.export.triton_repository:publish_version",
            options=COMMON_OPTIONS | {"opset", "simplify", "rewrites", "int8", "calib", "max_batch", "instances", "backend", "model_name", "version"},
            extra="onnx",
            description="Triton Inference Server model repository (ONNX model + config.pbtxt)",
            default_ska="conv_im2col",  # the repository's model runs in Triton's ONNX Runtime backend by default
            is_directory=True,
        ),
        Format(
            name="openvino",
            aliases=("ov", "intel", "openvino-ir", "ir"),
            suffix=".xml",
            exporter="lsnet.export.openvino_exporter:export_openvino",
            validator="lsnet.export.validate:validate_with_runner",
            preflight="lsnet.export.openvino_exporter:preflight_openvino",
            options=COMMON_OPTIONS | {"opset", "simplify", "rewrites", "int8", "calib", "int8_threshold"},
            extra="openvino",
            description="OpenVINO IR (.xml + .bin) for Intel CPUs, GPUs and NPUs",
            companions=(".bin",),
            requires=("openvino", "onnx"),
            default_ska="conv_im2col",  # converted from the default ONNX export (export/openvino_exporter.py)
        ),
        Format(
            name="litert",
            aliases=("tflite", "tfl", "lite", "android"),
            suffix=".tflite",
            exporter="lsnet.export.litert_exporter:export_litert",
            validator="lsnet.export.validate:validate_with_runner",
            preflight="lsnet.export.litert_exporter:preflight_litert",
            options=(COMMON_OPTIONS - {"dynamic_batch"}) | {"int8", "calib", "int8_threshold"},  # fixed batch (export/litert_exporter.py)
            extra="litert",
            description="LiteRT (TensorFlow Lite) flatbuffer for Android and embedded CPUs (XNNPACK)",
            requires=("litert_torch", "ai_edge_litert"),
            default_ska="conv_im2col",  # one XNNPACK delegate node for the whole graph (export/litert_exporter.py)
        ),
        Format(
            name="executorch",
            aliases=("pte", "et", "xnnpack"),
            suffix=".pte",
            exporter="lsnet.export.executorch_exporter:export_executorch",
            validator="lsnet.export.validate:validate_with_runner",
            options=COMMON_OPTIONS - {"dynamic_batch", "half"},  # fixed batch, FP32 (export/executorch_exporter.py)
            extra="executorch",
            description="ExecuTorch program (.pte) with the XNNPACK delegate for Android/iOS/embedded CPUs",
            requires=("executorch.exir",),
            default_ska="conv_im2col",  # SKA gather as a convolution, which XNNPACK takes
        ),
        Format(
            name="ncnn",
            aliases=("pnnx", "tencent-ncnn"),
            suffix=".param",
            exporter="lsnet.export.ncnn_exporter:export_ncnn",
            validator="lsnet.export.validate:validate_with_runner",
            preflight="lsnet.export.ncnn_exporter:preflight_ncnn",
            options=COMMON_OPTIONS - {"half"},  # FP32 only (export/ncnn_exporter.py); any batch: one image per extractor
            extra="ncnn",
            description="ncnn model (.param + .bin, converted by pnnx from TorchScript) for Android/ARM and x86 CPUs",
            companions=(".bin",),
            name_tag=".ncnn",  # lsnet_t.ncnn.param + lsnet_t.ncnn.bin: never the .bin of an OpenVINO lsnet_t.xml
            requires=("pnnx", "ncnn"),
            default_ska="unfold",  # exact via pnnx and the fastest in ncnn; shift does not load (export/ncnn_exporter.py)
        ),
        Format(
            name="mnn",
            aliases=("alibaba-mnn",),
            suffix=".mnn",
            exporter="lsnet.export.mnn_exporter:export_mnn",
            validator="lsnet.export.validate:validate_with_runner",
            preflight="lsnet.export.mnn_exporter:preflight_mnn",
            options=COMMON_OPTIONS | {"opset", "simplify", "rewrites"},
            extra="mnn",
            description="MNN model for Android/iOS/embedded CPUs, converted from the ONNX export",
            requires=("onnx",),  # MNN itself is imported by the preflight, with its native start-up output captured
            default_ska="shift",  # the fastest in MNN of the ONNX formulations (export/mnn_exporter.py)
        ),
    )
}

_ALIASES = {alias: f.name for f in FORMATS.values() for alias in (f.name, *f.aliases)}


def resolve_format(name: str) -> Format:
    """The format called ``name`` or one of its aliases (case-insensitive); hints on typos."""
    key = name.strip().lower().lstrip(".")
    if key in _ALIASES:
        return FORMATS[_ALIASES[key]]
    raise UnknownOptionError(
        f"unknown export format '{name}'.{suggest(key, _ALIASES)} Formats: "
        + "; ".join(f"{f.name} (aliases: {', '.join(f.aliases)})" for f in FORMATS.values())
        + "."
    )
