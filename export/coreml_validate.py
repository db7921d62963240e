"""Validation of a Core ML export: structure everywhere, predictions on macOS, an ONNX Runtime proxy elsewhere."""
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lsnet.export.coreml_spec import MAX_CORE_ML_RANK, CoreMLSpecSummary, summarize
from lsnet.runtimes.coreml_tools import can_predict
from lsnet.export.options import ExportOptions
from lsnet.export.parity import THRESHOLDS, ParityReport, compare

COMPUTE_UNITS = ("cpu_only", "cpu_and_gpu", "cpu_and_ne", "all")
REQUIRED_METADATA = ("variant", "ska", "precision", "normalization", "lsnet_version", "weights_sha256", "deployment_target")
PIXEL_SEED = 4321
PROXY_NOTE = "on-device parity needs macOS; numerical proxy: ONNX Runtime with the same shift formulation"


@dataclass
class CoreMLParityReport(ParityReport):
    """A ParityReport whose verdict also covers the structural checks of the spec."""

    structure: dict[str, Any] = field(default_factory=dict)
    structural_failures: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return self.structural_failures + super().failures

    def to_dict(self) -> dict:
        return {**super().to_dict(), "structure": self.structure}


def structural_failures(summary: CoreMLSpecSummary, reference: nn.Module) -> list[str]:
    """What the spec must show: ML Program, one RGB image input of the model's size, N labels, logits, metadata, rank."""
    expected_size = tuple(reference.pretrained_cfg.input_size[1:])
    problems = []
    if summary.model_type != "mlProgram":
        problems.append(f"structure: model type is {summary.model_type}, expected mlProgram")
    if list(summary.inputs.values()) != ["imageType"] or summary.color_space != "RGB":
        problems.append(f"structure: inputs {summary.inputs} ({summary.color_space}), expected one RGB image")
    elif summary.image_size != expected_size:
        problems.append(f"structure: image size {summary.image_size}, expected {expected_size}")
    if len(summary.labels) != reference.num_classes:
        problems.append(f"structure: classifier has {len(summary.labels)} labels, expected {reference.num_classes}")
    if summary.outputs.get("logits") != "multiArrayType":
        problems.append("structure: no 'logits' multi-array output")
    problems += preprocessing_failures(summary.preprocessing, reference)
    missing = [k for k in REQUIRED_METADATA if k not in summary.metadata]
    if missing:
        problems.append(f"structure: metadata lacks {', '.join(missing)}")
    if summary.max_rank > MAX_CORE_ML_RANK:
        problems.append(f"structure: tensors of rank {summary.max_rank} (> {MAX_CORE_ML_RANK}): {summary.ops_above_rank_4[:3]}")
    return problems


def preprocessing_failures(found: dict[str, list[float]], reference: nn.Module) -> list[str]:
    """The program must scale by 1/255, subtract the mean and multiply by 1/std (FP16 rounding allowed)."""
    cfg = reference.pretrained_cfg
    expected = {"scale": [1 / 255], "mean": list(cfg.mean), "inv_std": [1 / s for s in cfg.std]}
    problems = []
    for key, values in expected.items():
        got = found.get(key)
        if got is None or len(got) not in (1, len(values)) or not np.allclose(got, values, rtol=2e-3):
            problems.append(f"structure: in-graph preprocessing {key} is {got}, expected {np.round(values, 5).tolist()}")
    return problems


def pixel_cases(img_size: tuple[int, int], batches: list[int]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 NCHW RGB pixels): uniform noise and smooth image-like patterns."""
    from lsnet.export.validate import image_like_batch

    rng = np.random.default_rng(PIXEL_SEED)
    cases = []
    for batch in batches:
        cases.append((f"random pixels, batch {batch}", rng.integers(0, 256, (batch, 3, *img_size), dtype=np.uint8)))
        unit = image_like_batch(batch, img_size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), PIXEL_SEED + batch)
        cases.append((f"image-like, batch {batch}", np.round(unit * 255).astype(np.uint8)))
    return cases


def normalized(pixels: np.ndarray, reference: nn.Module) -> np.ndarray:
    """What the PyTorch reference takes for these pixels: (pixel/255 - mean) / std, float32."""
    cfg = reference.pretrained_cfg
    mean = np.reshape(cfg.mean, (1, 3, 1, 1))
    std = np.reshape(cfg.std, (1, 3, 1, 1))
    return ((pixels.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)


@torch.no_grad()
def reference_logits(reference: nn.Module, batch: np.ndarray) -> np.ndarray:
    return reference.eval().float()(torch.from_numpy(batch)).numpy()


def device_cases(path: Path, reference: nn.Module, report: ParityReport) -> None:
    """macOS: every compute unit against PyTorch, through the Core ML runner."""
    from lsnet.runtimes.coreml_runner import CoreMLRunner

    cases = pixel_cases(tuple(reference.pretrained_cfg.input_size[1:]), [1, 2])
    for unit in COMPUTE_UNITS:
        with CoreMLRunner(path, device=unit) as runner:
            for name, pixels in cases:
                batch = normalized(pixels, reference)
                report.cases.append(compare(f"{unit}: {name}", runner.infer(batch), reference_logits(reference, batch), report.thresholds))


def proxy_cases(reference: nn.Module, options: ExportOptions, report: ParityReport) -> None:
    """Elsewhere: the same graph (image in 0..1, in-graph normalization, same SKA) through ONNX Runtime."""
    from lsnet.export.coreml_graph import ImageLogits, coreml_classifier
    from lsnet.export.formats import resolve_format
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.export.options import make_options
    from lsnet.factory import set_ska
    from lsnet.reparam import reparameterize
    from lsnet.runtimes.registry import open_runner

    ska = options.ska or "shift"
    graph = ImageLogits(coreml_classifier(set_ska(reparameterize(reference), ska)))
    onnx_options = make_options(resolve_format("onnx"), ska=ska, half=False, simplify=False, img_size=options.img_size)
    with tempfile.TemporaryDirectory(prefix="lsnet-coreml-proxy-") as tmp:
        onnx_path = Path(tmp) / "proxy.onnx"
        export_onnx(graph, onnx_options, onnx_path)
        with open_runner(onnx_path, device="cpu") as runner:
            for name, pixels in pixel_cases(tuple(reference.pretrained_cfg.input_size[1:]), [1, 2]):
                expected = reference_logits(reference, normalized(pixels, reference))
                got = runner.infer(pixels.astype(np.float32) / 255.0)
                report.cases.append(compare(f"onnx proxy: {name}", got, expected, report.thresholds))
    report.notes.append(PROXY_NOTE)
    if options.precision == "fp16":
        report.notes.append("the proxy computes in FP32; Core ML's FP16 arithmetic itself is only checked on macOS")


def validate_coreml(path: Path, reference: nn.Module, options: ExportOptions) -> CoreMLParityReport:
    """The format hook: structural checks of the spec, then parity on macOS or through the ONNX proxy."""
    summary = summarize(Path(path))
    report = CoreMLParityReport(precision=options.precision, thresholds=THRESHOLDS[options.precision])
    report.structure = summary.to_dict()
    report.structural_failures = structural_failures(summary, reference)
    report.notes.append(
        f"structure checked: {summary.model_type}, inputs {summary.inputs}, {len(summary.labels)} labels, "
        f"metadata, max tensor rank {summary.max_rank}, {sum(summary.op_histogram.values())} ops"
    )
    if summary.max_rank > 4:
        report.notes.append(f"tensors above rank 4 keep parts of the model off the Neural Engine: {summary.ops_above_rank_4[:3]}")
    if "gather" in summary.op_histogram:
        report.notes.append(f"{summary.op_histogram['gather']} gather op(s) left in the graph (expected the bias gather to be folded)")
    if can_predict():
        device_cases(Path(path), reference, report)
    else:
        proxy_cases(reference, options, report)
    return report
