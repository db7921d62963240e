"""``lsnet export`` (generic over the format table) and ``lsnet validate``."""
import shlex
import time
from pathlib import Path

import typer

from lsnet.commands.options import ImgSizeOption, LabelsOption, NumClassesOption, RandomHeadOption, parse_size


def export(
    name: str = typer.Argument(..., help="Model name, e.g. lsnet_t."),
    format: str = typer.Option("onnx", "--format", "-f", help="onnx, trt, coreml, triton, openvino, litert, executorch, ncnn or mnn (aliases accepted)."),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint (.pth/.safetensors); random init if omitted."),
    num_classes: int | None = NumClassesOption,
    random_head: bool = RandomHeadOption,
    labels: Path | None = LabelsOption,
    img_size: str = ImgSizeOption,
    batch: int | None = typer.Option(None, "--batch", help="Fixed batch size (turns dynamic batch off)."),
    dynamic_batch: bool = typer.Option(True, "--dynamic-batch/--no-dynamic-batch", help="Symbolic batch axis."),
    opset: int = typer.Option(18, "--opset", help="ONNX opset (>= 17)."),
    ska: str | None = typer.Option(None, "--ska", help="SKA formulation (default: the format's fastest); see lsnet models."),
    half: bool | None = typer.Option(
        None, "--half/--fp32", help="FP16 or FP32 compute (default: the format's; FP32, but FP16 for coreml)."
    ),
    int8: bool = typer.Option(False, "--int8", help="INT8 quantization (needs --calib)."),
    calib: str | None = typer.Option(None, "--calib", help="Calibration image folder, or a number of synthetic images."),
    int8_threshold: float = typer.Option(
        0.95, "--int8-threshold", help="Minimum INT8 top-1 agreement with FP32 on images the calibration never saw."
    ),
    eval_folder: Path | None = typer.Option(
        None, "--eval", help="Labelled folder (one subfolder per class): report held-out accuracy, gate on it."
    ),
    max_accuracy_drop: float = typer.Option(
        1.0, "--max-accuracy-drop", help="Top-1 points the export may lose against PyTorch on --eval."
    ),
    simplify: bool = typer.Option(True, "--simplify/--no-simplify", help="Simplify the ONNX graph with onnxslim."),
    rewrites: str = typer.Option(
        "all", "--rewrites", help="ONNX Runtime layout rewrites: all, none, or a comma list of squeeze-excite, ls-bn."
    ),
    baseline: bool = typer.Option(False, "--baseline", help="The straightforward export kept as a performance baseline."),
    batch_range: str | None = typer.Option(None, "--batch-range", help="MIN,OPT,MAX batch of a dynamic engine/model."),
    workspace_gb: float = typer.Option(4.0, "--workspace-gb", help="TensorRT builder workspace in GiB."),
    timing_cache: Path | None = typer.Option(None, "--timing-cache", help="TensorRT timing cache file."),
    deployment_target: str = typer.Option("iOS16", "--deployment-target", help="Core ML minimum deployment target."),
    max_batch: int = typer.Option(32, "--max-batch", help="Triton max_batch_size."),
    instances: int = typer.Option(1, "--instances", help="Triton instance count."),
    backend: str = typer.Option("onnxruntime", "--backend", help="Triton backend: onnxruntime, onnxruntime-gpu or tensorrt."),
    model_name: str | None = typer.Option(None, "--model-name", help="Triton model folder (default: the model name)."),
    version: int | None = typer.Option(None, "--version", help="Triton model version to add or replace (default: the next free one)."),
    no_validate: bool = typer.Option(False, "--no-validate", help="Skip the parity check against PyTorch."),
    output: Path | None = typer.Option(
        None, "--output", "-o",
        help="Output file, or a folder to write <name>[_fp16|_int8]<suffix> into (default: the current folder);"
        " for triton the model repository folder (default: model_repository).",
    ),
) -> None:
    """Export a model, check parity with PyTorch, and publish the artifact with its JSON sidecar."""
    from lsnet.commands.stage_display import stage_display
    from lsnet.export import export as run_export
    from lsnet.export.progress import reporting

    started = time.perf_counter()
    with stage_display() as display, reporting(display):
        result = run_export(
            name, format,
            weights=weights, num_classes=num_classes, random_head=random_head, labels=labels,
            img_size=parse_size(img_size), batch=batch, dynamic_batch=dynamic_batch, opset=opset,
            ska=ska, half=half, int8=int8, calib=calib, int8_threshold=int8_threshold, simplify=simplify,
            rewrites=rewrites, baseline=baseline, batch_range=batch_range.split(",") if batch_range else None,
            workspace_gb=workspace_gb, timing_cache=timing_cache, deployment_target=deployment_target,
            max_batch=max_batch, instances=instances, backend=backend, model_name=model_name, version=version,
            eval_folder=eval_folder, max_accuracy_drop=max_accuracy_drop, validate=not no_validate, output=output,
        )
    typer.echo(
        f"exported {result.path} in {time.perf_counter() - started:.1f} s ({format_size(*result.files)}, {result.format}, "
        f"{result.metadata['precision']}, SKA {result.metadata['ska']})"
    )
    if result.parity is None:
        typer.echo("parity: not checked (--no-validate)")
    else:
        worst = result.parity.worst()
        typer.echo(
            f"parity: passed on {len(result.parity.cases)} cases; worst max abs err {worst['max_abs_err']:.3g}, "
            f"cosine {worst['min_cosine']:.7f}, top-1 agreement {worst['min_top1_agreement']:.3f}"
        )
    gate = (result.metadata.get("int8") or {}).get("agreement_with_fp32")
    if gate and gate["cases"]:
        case = gate["cases"][0]
        typer.echo(f"INT8 vs FP32 on {case['case']}: top-1 agreement {case['top1_agreement']:.3f}, cosine {case['cosine']:.4f}")
    accuracy = result.metadata.get("accuracy")
    if accuracy and accuracy.get("measured", True):
        typer.echo(
            f"held-out accuracy ({accuracy['images']} images, {accuracy['folder']}): top-1 {100 * accuracy['top1']:.1f}%"
            f" (PyTorch {100 * accuracy['reference_top1']:.1f}%), top-5 {100 * accuracy['top5']:.1f}%,"
            f" top-1 agreement {accuracy['top1_agreement']:.3f}"
        )
    for note in [*(result.parity.notes if result.parity else []), *result.metadata.get("notes", [])]:
        typer.echo(f"note: {note}")
    typer.echo(f"sidecar: {result.sidecar}")
    typer.echo("next:")
    for line in next_commands(result.path, result.format, result.metadata):
        typer.echo(f"  {line}")


def next_commands(path: Path, fmt: str, metadata: dict) -> list[str]:
    """What to run on a fresh artifact: check, classify, evaluate, measure and serve it (its real path), commented."""
    quoted = shlex.quote(str(path))
    device = " --device cuda" if fmt == "trt" or metadata.get("triton", {}).get("backend") == "tensorrt" else ""
    rows = [
        (f"lsnet validate {quoted}{device}", "parity with PyTorch again"),
        (f"lsnet predict {quoted} IMAGE.jpg{device}", "top-5 classes of an image"),
        (f"lsnet eval {quoted} FOLDER{device}", "top-1/top-5 accuracy on a folder per class"),
        (f"lsnet bench run {quoted}{device}", "latency and throughput"),
        (f"lsnet serve {quoted}{device}", "HTTP service on 127.0.0.1:8000"),
    ]
    if fmt == "triton":  # path is <repository>/<model>/<version>
        rows.append((f"tritonserver --model-repository {shlex.quote(str(path.parent.parent))}", "Triton Inference Server"))
    width = max(len(command) for command, _ in rows)
    return [f"{command:<{width}}  # {comment}" for command, comment in rows]


def format_size(*paths: Path) -> str:
    """Total size of files or folders in MB."""
    size = sum(p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in paths)
    return f"{size / 1e6:.2f} MB"


def validate(
    artifact: Path = typer.Argument(
        ..., help="Exported artifact (.onnx, .engine, .mlpackage, ...) with its sidecar, or a Triton model folder."
    ),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint to compare with (default: from the sidecar)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Re-check an artifact's parity with the PyTorch model it was exported from; exit 3 on mismatch."""
    from lsnet.export.validate import format_report, require_parity, validate_artifact

    report = validate_artifact(artifact, weights=weights, device=device)
    typer.echo(format_report(report))
    require_parity(report, artifact)
