"""Structural facts about a saved .mlpackage, read from its spec without Core ML (works on Linux)."""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.errors import ArtifactError
from lsnet.runtimes.coreml_tools import import_coremltools

MAX_CORE_ML_RANK = 5  # Core ML rejects tensors of higher rank


@dataclass
class CoreMLSpecSummary:
    """What a Core ML model is: type, input, classifier labels, metadata, op histogram, tensor ranks."""

    model_type: str
    inputs: dict[str, str]
    image_size: tuple[int, int] | None
    color_space: str | None
    outputs: dict[str, str]
    labels: list[str]
    metadata: dict[str, str]
    description: dict[str, str]
    op_histogram: dict[str, int] = field(default_factory=dict)
    max_rank: int = 0
    ops_above_rank_4: list[str] = field(default_factory=list)
    opset: str | None = None
    preprocessing: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_type": self.model_type,
            "inputs": self.inputs,
            "image_size": list(self.image_size) if self.image_size else None,
            "color_space": self.color_space,
            "outputs": self.outputs,
            "num_labels": len(self.labels),
            "metadata_keys": sorted(self.metadata),
            "op_histogram": self.op_histogram,
            "max_rank": self.max_rank,
            "ops_above_rank_4": self.ops_above_rank_4[:20],
            "opset": self.opset,
            "preprocessing": self.preprocessing,
        }


def load_spec(path: Path) -> Any:
    """The protobuf spec of a .mlpackage/.mlmodel, without compiling or loading it."""
    ct = import_coremltools()
    if not Path(path).exists():
        raise ArtifactError(f"Core ML model not found: {path}; pass an .mlpackage folder or .mlmodel file.")
    try:
        return ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    except Exception as exc:  # coremltools raises bare exceptions for unreadable packages
        raise ArtifactError(f"{path} is not a readable Core ML model ({type(exc).__name__}); re-export it with lsnet export.") from exc


def _feature_kind(feature: Any) -> str:
    return feature.type.WhichOneof("Type") or "unknown"


def _walk_program(program: Any) -> tuple[Counter, int, list[str], str | None]:
    """Op histogram, max tensor rank, ops with a tensor above rank 4, and the opset of ``main``."""
    ops: Counter = Counter()
    max_rank, high = 0, []
    main = program.functions["main"]
    block = main.block_specializations[main.opset]

    def visit(block: Any) -> None:
        nonlocal max_rank
        for op in block.operations:
            ops[op.type] += 1
            ranks = [o.type.tensorType.rank for o in op.outputs if o.type.HasField("tensorType")]
            if ranks:
                max_rank = max(max_rank, *ranks)
                if max(ranks) > 4:
                    high.append(f"{op.type} {op.outputs[0].name} (rank {max(ranks)})")
            for inner in op.blocks:
                visit(inner)

    visit(block)
    return ops, max_rank, high, main.opset


def summarize(path: Path) -> CoreMLSpecSummary:
    """Read ``path``'s spec and summarise it; the MIL program is walked for ML Programs."""
    spec = load_spec(path)
    desc = spec.description
    model_type = spec.WhichOneof("Type") or "unknown"
    labels: list[str] = []
    if model_type == "mlProgram":
        for op in spec.mlProgram.functions["main"].block_specializations[spec.mlProgram.functions["main"].opset].operations:
            if op.type == "classify":
                classes = op.inputs["classes"].arguments[0]
                labels = _classify_labels(spec.mlProgram, op, classes)
    image = next((f.type.imageType for f in desc.input if _feature_kind(f) == "imageType"), None)
    summary = CoreMLSpecSummary(
        model_type=model_type,
        inputs={f.name: _feature_kind(f) for f in desc.input},
        image_size=(image.height, image.width) if image is not None else None,
        color_space=type(image).ColorSpace.Name(image.colorSpace) if image is not None else None,
        outputs={f.name: _feature_kind(f) for f in desc.output},
        labels=labels,
        metadata=dict(desc.metadata.userDefined),
        description={
            "author": desc.metadata.author,
            "license": desc.metadata.license,
            "version": desc.metadata.versionString,
            "short_description": desc.metadata.shortDescription,
        },
    )
    if model_type == "mlProgram":
        ops, summary.max_rank, summary.ops_above_rank_4, summary.opset = _walk_program(spec.mlProgram)
        summary.op_histogram = dict(ops.most_common())
        summary.preprocessing = _preprocessing(spec.mlProgram)
    return summary


def _const_values(op: Any) -> list[float] | None:
    """Float values of a small const op (FP32 inline floats or FP16 inline bytes)."""
    value = op.attributes["val"]
    tensor = value.immediateValue.tensor if value.HasField("immediateValue") else None
    if tensor is None:
        return None
    if tensor.HasField("floats"):
        return [float(v) for v in tensor.floats.values]
    if tensor.HasField("bytes"):
        return np.frombuffer(tensor.bytes.values, dtype=np.float16).astype(float).tolist()
    return None


def _preprocessing(program: Any) -> dict[str, list[float]]:
    """The image preprocessing baked into the program: ``x * scale``, ``- mean``, ``* inv_std`` before the first conv."""
    main = program.functions["main"]
    operations = list(main.block_specializations[main.opset].operations)
    consts = {op.outputs[0].name: op for op in operations if op.type == "const"}
    steps = {"mul": ["scale", "inv_std"], "sub": ["mean"]}
    found: dict[str, list[float]] = {}
    for op in operations:
        if op.type == "conv":
            break
        names = steps.get(op.type)
        arguments = op.inputs["y"].arguments if "y" in op.inputs else []
        if names and arguments and arguments[0].name in consts:
            key = next((n for n in names if n not in found), None)
            values = _const_values(consts[arguments[0].name])
            if key and values is not None:
                found[key] = values
    return found


def _classify_labels(program: Any, op: Any, argument: Any) -> list[str]:
    """Class labels of a classify op: an inline value or the const op that produced them."""
    value = argument.value if argument.HasField("value") else None
    if value is None:
        main = program.functions["main"]
        for const in main.block_specializations[main.opset].operations:
            if const.type == "const" and const.outputs[0].name == argument.name:
                value = const.attributes["val"]
                break
    if value is None:
        return []
    strings = value.immediateValue.list.values if value.immediateValue.HasField("list") else []
    return [v.immediateValue.tensor.strings.values[0] for v in strings]
