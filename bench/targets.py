"""Benchmark targets: ``NAME[@MOD[+MOD...]]`` for PyTorch models, or an artifact path.

Modifiers (PyTorch model targets only):

- ``fp32`` / ``fp16`` / ``bf16``: weights and inputs in that precision;
- ``amp-fp16`` / ``amp-bf16``: fp32 weights run under ``torch.autocast``;
- ``compile``: ``torch.compile``; ``cudagraph``: CUDA-graph replay (GPU only);
- ``channels_last``: NHWC memory format; ``ska=NAME``: an SKA formulation from ``lsnet.list_ska()``;
- ``eager``: no modifier (explicitly the default).

Examples: ``lsnet_t``, ``lsnet_t@fp16``, ``lsnet_t@amp-bf16+channels_last``, ``lsnet_t@ska=unfold``,
``exports/lsnet_t.onnx``. Artifacts (.onnx, .engine/.plan, .mlpackage/.mlmodel, .pth) open through
``lsnet.runtimes.open_runner``; their precision and SKA are fixed by the artifact.
"""
import inspect
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsnet.bench.harness import Candidate
from lsnet.bench.memory import memory_probe
from lsnet.choices import suggest
from lsnet.errors import LsnetError, MissingDependencyError, UnknownModelError, UnknownOptionError

log = logging.getLogger(__name__)

FLAGS = ("eager", "compile", "cudagraph", "channels_last")
PRECISION_MODIFIERS = ("fp32", "fp16", "bf16")
AUTOCAST_MODIFIERS = {"amp-fp16": "fp16", "amp-bf16": "bf16"}
MODIFIERS = (*PRECISION_MODIFIERS, *AUTOCAST_MODIFIERS, *FLAGS, "ska=NAME")
GPU_ONLY_SUFFIXES = {".engine": "TensorRT engine", ".plan": "TensorRT engine"}
APPLE_SUFFIXES = {".mlpackage": "Core ML package", ".mlmodel": "Core ML model"}
SIDECAR_KEYS = (
    "variant", "format", "precision", "ska", "opset", "baseline", "rewrites", "simplify", "dynamic_batch", "weights", "source",
)


@dataclass(frozen=True)
class TargetSpec:
    """A parsed target: what to open and how."""

    text: str
    name: str
    artifact: bool = False
    precision: str | None = None
    autocast: str | None = None
    ska: str | None = None
    compile: bool = False
    cuda_graph: bool = False
    channels_last: bool = False


def artifact_suffixes() -> list[str]:
    """Suffixes ``open_runner`` can open."""
    from lsnet.runtimes.registry import RUNNERS

    return list(RUNNERS)


def parse_modifier(spec: TargetSpec, modifier: str) -> TargetSpec:
    """Apply one ``@``/``+`` modifier to ``spec``."""
    if modifier in PRECISION_MODIFIERS:
        return replace(spec, precision=modifier)
    if modifier in AUTOCAST_MODIFIERS:
        return replace(spec, autocast=AUTOCAST_MODIFIERS[modifier])
    if modifier.startswith("ska="):
        from lsnet.ska import get_ska

        get_ska(modifier[4:])
        return replace(spec, ska=modifier[4:])
    if modifier in FLAGS:
        field_name = {"eager": None, "compile": "compile", "cudagraph": "cuda_graph", "channels_last": "channels_last"}[modifier]
        return replace(spec, **{field_name: True}) if field_name else spec
    raise UnknownOptionError(
        f"unknown modifier '{modifier}' in target '{spec.text}'.{suggest(modifier, MODIFIERS)} Use: {', '.join(MODIFIERS)}."
    )


def parse_target(text: str) -> TargetSpec:
    """Parse ``NAME[@MOD+MOD...]`` or an artifact path; unknown names and modifiers raise one clear line."""
    from lsnet.variants import VARIANTS

    from lsnet.runtimes.model_repository import resolve_artifact

    name, _, mods = text.partition("@")
    name = str(resolve_artifact(name))  # a Triton model or version folder: its model file
    suffix = Path(name).suffix.lower()
    if suffix in artifact_suffixes():
        if not Path(name).exists():
            raise LsnetError(f"artifact '{name}' does not exist: check the path or export it first with lsnet export.")
        spec = TargetSpec(text=text, name=name, artifact=True)
        if mods and suffix not in (".pth", ".pt", ".safetensors"):
            raise UnknownOptionError(f"'{text}': modifiers apply to PyTorch targets only; {suffix} artifacts fix precision and SKA at export.")
    elif name in VARIANTS:
        spec = TargetSpec(text=text, name=name)
    else:
        raise UnknownModelError(
            f"unknown target '{name}': not an LSNet model nor an artifact file.{suggest(name, VARIANTS)}"
            f" Use one of {', '.join(VARIANTS)} or a file ending in {', '.join(artifact_suffixes())}."
        )
    for modifier in filter(None, re.split(r"[+@]", mods)):
        spec = parse_modifier(spec, modifier)
    return spec


def check_device(spec: TargetSpec, device: str) -> None:
    """Refuse target/device pairs that cannot run, before anything is opened."""
    suffix = Path(spec.name).suffix.lower() if spec.artifact else ""
    if suffix in GPU_ONLY_SUFFIXES and not device.startswith("cuda"):
        raise UnknownOptionError(f"'{spec.text}' is a {GPU_ONLY_SUFFIXES[suffix]}, which runs on NVIDIA GPUs only: use --device cuda.")
    if suffix in APPLE_SUFFIXES and device.startswith("cuda"):
        raise UnknownOptionError(
            f"'{spec.text}' is a {APPLE_SUFFIXES[suffix]}, which runs on Apple hardware, not CUDA: benchmark it on a Mac with"
            " --device cpu, or import iPhone results with lsnet bench import."
        )
    if spec.cuda_graph and not device.startswith("cuda"):
        raise UnknownOptionError(f"'{spec.text}': CUDA graphs need --device cuda.")


def sidecar_subset(path: str) -> dict[str, Any]:
    """The artifact sidecar fields a results row keeps (precision, SKA, opset, ...)."""
    from lsnet.runtimes.artifact_metadata import read_sidecar

    sidecar = read_sidecar(Path(path))
    return {key: sidecar[key] for key in SIDECAR_KEYS if key in sidecar}


def open_artifact(spec: TargetSpec, device: str, threads: int | None, img_size: tuple[int, int] | None) -> Candidate:
    """Open an artifact with ``open_runner``; ``threads`` is passed to runners that take it."""
    from lsnet.runtimes.registry import runner_class

    try:
        cls = runner_class(spec.name)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("lsnet"):
            raise
        raise MissingDependencyError(
            f"this lsnet build has no runner for {Path(spec.name).suffix} files ({exc.name}); benchmark another artifact type."
        ) from exc
    options: dict[str, Any] = {}
    if threads:
        accepts = inspect.signature(cls.__init__).parameters
        if "threads" in accepts:
            options["threads"] = threads
        else:
            log.warning("%s does not take a thread count; --threads is not applied to %s", cls.__name__, spec.text)
    runner = cls(spec.name, device=device, **options)
    if img_size is not None and tuple(runner.input_spec.shape[2:]) != tuple(img_size):
        runner.close()
        raise UnknownOptionError(
            f"'{spec.text}' takes {runner.input_spec.shape[2]}x{runner.input_spec.shape[3]} images, not"
            f" {img_size[0]}x{img_size[1]}: drop --img-size or re-export at that size."
        )
    metadata = {**sidecar_subset(spec.name), **{k: v for k, v in runner.info.metadata.items() if k in SIDECAR_KEYS}}
    return Candidate(
        label=spec.text,
        runner=runner,
        memory=memory_probe(runner.info.runtime, device),
        extra={"model": metadata.get("variant"), "ska": metadata.get("ska"), "metadata": metadata},
    )


def open_model(spec: TargetSpec, device: str, threads: int | None, img_size: tuple[int, int] | None) -> Candidate:
    """Open a model name or checkpoint in PyTorch with the spec's modifiers."""
    from lsnet.runtimes.torch_runner import TorchRunner

    runner = TorchRunner(
        spec.name,
        device=device,
        img_size=img_size or 224,
        ska=spec.ska,
        precision=spec.precision or "fp32",
        autocast=spec.autocast,
        compile=spec.compile,
        cuda_graph=spec.cuda_graph,
        channels_last=spec.channels_last,
        threads=threads,
    )
    metadata = {k: v for k, v in runner.info.metadata.items() if v is not None}
    return Candidate(
        label=spec.text,
        runner=runner,
        memory=memory_probe(runner.info.runtime, device),
        extra={"model": metadata.get("variant", spec.name), "ska": metadata.get("ska"), "metadata": metadata},
    )


def short_labels(specs: list[TargetSpec]) -> list[str]:
    """Artifacts are labelled by file name (plus modifiers), unless two targets would then share a label."""
    short = [Path(s.name).name + s.text[len(s.name):] if s.artifact else s.text for s in specs]
    return short if len(set(short)) == len(short) else [s.text for s in specs]


def with_defaults(spec: TargetSpec, precision: str | None, ska: str | None, compile: bool) -> TargetSpec:
    """Apply command-line defaults (--precision, --ska, --compile) where the target did not say otherwise."""
    if spec.artifact and Path(spec.name).suffix.lower() not in (".pth", ".pt", ".safetensors"):
        return spec
    return replace(
        spec,
        precision=spec.precision or (None if spec.autocast else precision),
        ska=spec.ska or ska,
        compile=spec.compile or (compile and not spec.cuda_graph),
    )


def open_targets(
    texts: list[str],
    device: str,
    *,
    threads: int | None = None,
    img_size: tuple[int, int] | None = None,
    precision: str | None = None,
    ska: str | None = None,
    compile: bool = False,
) -> list[Candidate]:
    """Parse and check every target first (so a typo fails fast), then open them in order."""
    from lsnet.runtimes.torch_runner import resolve_device

    if not texts:
        raise UnknownOptionError("no target given: name a model (e.g. lsnet_t) or an artifact (e.g. lsnet_t.onnx).")
    if len(set(texts)) != len(texts):
        raise UnknownOptionError("the same target is listed twice: give each target once.")
    specs = [with_defaults(parse_target(t), precision, ska, compile) for t in texts]
    for spec in specs:
        check_device(spec, device)
    apple_only = all(spec.artifact and Path(spec.name).suffix.lower() in APPLE_SUFFIXES for spec in specs)
    if device.startswith("cuda"):
        resolve_device(device)
    elif apple_only:
        from lsnet.runtimes.coreml_runner import compute_unit

        compute_unit(device)  # Core ML targets take a compute unit: cpu_only, cpu_and_gpu, cpu_and_ne, all
    elif device != "cpu":
        raise UnknownOptionError(f"unknown device '{device}': use cpu or cuda (Core ML targets also take a compute unit).")
    candidates: list[Candidate] = []
    try:
        for spec, label in zip(specs, short_labels(specs)):
            is_artifact = spec.artifact and Path(spec.name).suffix.lower() not in (".pth", ".pt", ".safetensors")
            candidate = (open_artifact if is_artifact else open_model)(spec, device, threads, img_size)
            candidate.label = label
            if spec.artifact:
                candidate.extra["metadata"]["path"] = spec.name
            candidates.append(candidate)
    except BaseException:
        for candidate in candidates:
            candidate.runner.close()
        raise
    return candidates
