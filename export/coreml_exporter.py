"""Core ML export: a self-describing ML Program (.mlpackage) with an RGB image input and class labels.

Design choices (recorded in the artifact's metadata too):
- ML Program, converted from a ``torch.jit.trace`` of the model. Trace rather than ``torch.export``:
  coremltools 9.0's TorchScript frontend is its mature path (the ExportedProgram frontend is still
  marked beta and is tested against fewer torch releases); the traced graph of a reparameterized
  LSNet has no data-dependent control flow, so a trace at the fixed input size is exact.
- Input: ``ct.ImageType`` RGB, scale 1/255; mean/std are applied inside the graph (per-channel
  ImageType bias is unreliable for ML Programs). Core ML image inputs hold one image, so the
  model has batch 1; runners batch through Core ML's batch-prediction API.
- Outputs: ``classLabel``/``classLabel_probs`` (softmax) for Xcode and Vision, and ``logits``
  (float32, shape (1, classes)) for parity checks and runners.
- FP16 compute precision by default (what the Neural Engine runs), FP32 with ``half=False``.
- Minimum deployment target iOS16 (Core ML 6, also macOS13) by default: its ML Program opset has
  FP16 input/output types and the newer op versions, it runs on every iPhone since the 8/X, and
  published latencies of comparable mobile models (RepViT, iPhone 12) were measured on iOS 16.
  ``deployment_target`` may name iOS15/macOS12 (the oldest that run ML Programs) or later.
"""
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsnet.choices import pick
from lsnet.errors import UnknownOptionError
from lsnet.export.coreml_graph import check_rank, coreml_classifier, trace
from lsnet.export.metadata import package_version, weights_record
from lsnet.export.options import ExportOptions
from lsnet.runtimes.coreml_tools import import_coremltools, quiet_conversion

log = logging.getLogger(__name__)

IMAGE_INPUT = "image"
LOGITS_OUTPUT = "logits"
PROBABILITIES_OUTPUT = "probabilities"
LABEL_OUTPUT = "classLabel"
MIN_ML_PROGRAM_SPEC = 6  # iOS15 / macOS12: the first targets that run ML Programs


def check_options(options: ExportOptions) -> None:
    """Refuse option combinations a Core ML image classifier cannot honour (one line each)."""
    if options.batch_range is not None or (options.batch or 1) > 1:
        raise UnknownOptionError(
            "Core ML image inputs hold one image, so the model has batch 1 and batches run through "
            "Core ML's batch-prediction API; drop --batch/--batch-range for --format coreml."
        )


def preflight_coreml(options: ExportOptions) -> None:
    """Options, coremltools and the deployment target, checked before any model is built."""
    check_options(options)
    deployment_target(import_coremltools(), options.deployment_target)


def deployment_target(ct: Any, name: str) -> Any:
    """The ``ct.target`` member called ``name`` (iOS15+/macOS12+ or later), one clear error otherwise."""
    members = ct.target.__members__
    by_lower = {n.lower(): n for n in members}
    known = by_lower.get(name.strip().lower())
    if known is not None and members[known].value < MIN_ML_PROGRAM_SPEC:
        raise UnknownOptionError(
            f"--deployment-target {known} cannot run ML Programs; use iOS15/macOS12 or later (default iOS16)."
        )
    valid = [n for n, member in members.items() if member.value >= MIN_ML_PROGRAM_SPEC]
    return members[known or pick("Core ML deployment target", name, valid)]


def labels_for_model(model: nn.Module) -> list[str]:
    """Class names shown by Xcode and Vision: the model's labels, ImageNet-1k names for 1000 classes, else "class N"."""
    from lsnet.labels import labels_for

    return labels_for(model.num_classes, model.pretrained_cfg.labels)


def convert(ct: Any, traced: torch.jit.ScriptModule, size: tuple[int, int], labels: list[str], half: bool, target: Any) -> Any:
    """Trace -> MIL -> ML Program with a classifier head and an extra float32 ``logits`` output.

    Two steps work around coremltools 9.0 failing (IndexError in get_func_output) when a classifier
    model has more than one output: convert to MIL first, drop the per-output type list that the
    classifier step miscounts, then build the ML Program without re-running the passes.
    """
    image = ct.ImageType(name=IMAGE_INPUT, shape=(1, 3, *size), scale=1 / 255.0, color_layout=ct.colorlayout.RGB)
    outputs = [ct.TensorType(name=PROBABILITIES_OUTPUT), ct.TensorType(name=LOGITS_OUTPUT, dtype=np.float32)]
    precision = ct.precision.FLOAT16 if half else ct.precision.FLOAT32
    with quiet_conversion():
        program = ct.convert(
            traced, inputs=[image], outputs=outputs, convert_to="milinternal",
            compute_precision=precision, minimum_deployment_target=target,
        )
        program.functions["main"].output_types = None
        return ct.convert(
            program, convert_to="mlprogram", pass_pipeline=ct.PassPipeline.EMPTY,
            classifier_config=ct.ClassifierConfig(labels, predicted_probabilities_output=PROBABILITIES_OUTPUT),
            compute_precision=ct.precision.FLOAT32, minimum_deployment_target=target,
        )


def describe(mlmodel: Any, model: nn.Module, options: ExportOptions, user_metadata: dict[str, str]) -> None:
    """Author, license, version, descriptions and user-defined metadata shown in Xcode."""
    import lsnet

    cfg = model.pretrained_cfg
    name = getattr(model, "name", "lsnet")
    mlmodel.author = "lsnet (model: Wang et al., LSNet, CVPR 2025)"
    mlmodel.license = cfg.license.upper()
    mlmodel.version = lsnet.__version__
    mlmodel.short_description = (
        f"{name} image classifier ({cfg.num_classes} classes, {cfg.paper}); "
        f"{options.precision.upper()}, SKA '{options.ska}', normalization inside the model."
    )
    mlmodel.input_description[IMAGE_INPUT] = (
        f"RGB image {cfg.input_size[2]}x{cfg.input_size[1]} (resize the shorter side to "
        f"size/{cfg.crop_pct} with {cfg.interpolation}, centre-crop); mean/std applied in the model."
    )
    mlmodel.output_description[LABEL_OUTPUT] = "most likely class"
    mlmodel.output_description[f"{LABEL_OUTPUT}_probs"] = "softmax probability of every class"
    mlmodel.output_description[LOGITS_OUTPUT] = "raw logits (1, classes), float32"
    mlmodel.user_defined_metadata.update(user_metadata)


def coreml_metadata(model: nn.Module, options: ExportOptions, target_name: str, rank: int) -> dict[str, Any]:
    """What the sidecar and the artifact record about this export (strings inside the artifact)."""
    import lsnet

    cfg = model.pretrained_cfg
    height, width = cfg.input_size[1:]
    weights = weights_record(options.weights)
    return {
        "input": {
            "name": IMAGE_INPUT,
            "kind": "image",
            "shape": [1, 3, height, width],
            "layout": "NCHW",
            "color": "RGB",
            "range": "image pixels 0..255; the model scales by 1/255 and applies (x - mean) / std itself",
        },
        "output": {"name": LOGITS_OUTPUT, "shape": [1, cfg.num_classes], "dtype": "float32"},
        "coreml": {
            "model_type": "mlProgram",
            "classifier_outputs": [LABEL_OUTPUT, f"{LABEL_OUTPUT}_probs"],
            "normalization": "in-graph: (pixel/255 - mean) / std",
            "batch": "1 per prediction; batches use Core ML batch prediction",
            "deployment_target": target_name,
            "compute_precision": options.precision,
            "max_tensor_rank_traced": rank,
            "lsnet_version": lsnet.__version__,
            "weights_sha256": weights["weights_sha256"],
        },
        "versions": {"coremltools": package_version("coremltools")},
    }


def export_coreml(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` (reparameterized, SKA already set) as an ML Program ``.mlpackage`` at ``path``."""
    check_options(options)
    ct = import_coremltools()
    target = deployment_target(ct, options.deployment_target)
    size = tuple(model.img_size)
    wrapper = coreml_classifier(model)
    traced = trace(wrapper, torch.rand(1, 3, *size))
    rank = check_rank(traced, options.ska or "shift")
    labels = labels_for_model(model)
    mlmodel = convert(ct, traced, size, labels, bool(options.half), target)
    metadata = coreml_metadata(model, options, target.name, rank)
    info = metadata["coreml"]
    describe(mlmodel, model, options, {
        "variant": getattr(model, "name", "lsnet"),
        "ska": options.ska or "shift",
        "precision": options.precision,
        "normalization": f"in-graph (x/255 - mean) / std, mean={list(model.pretrained_cfg.mean)}, std={list(model.pretrained_cfg.std)}",
        "input_kind": "image (RGB, 0..255), not a normalized NCHW tensor",
        "logits_output": LOGITS_OUTPUT,
        "lsnet_version": info["lsnet_version"],
        "weights_sha256": info["weights_sha256"] or "random-init",
        "deployment_target": target.name,
    })
    mlmodel.save(str(path))
    log.info("Core ML %s ML Program written (%s, %d labels)", options.precision.upper(), target.name, len(labels))
    return metadata
