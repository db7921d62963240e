"""``lsnet predict``: classify images with a checkpoint, a model name or any exported artifact."""
import json
from pathlib import Path

import numpy as np
import typer

from lsnet.commands.options import LabelsOption
from lsnet.errors import LsnetError, UnknownOptionError
from lsnet.runtimes.base import infer_in_chunks


def predict(
    artifact: str = typer.Argument(..., help="Model name, checkpoint (.pth/.safetensors) or artifact (.onnx, .engine, ...)."),
    images: list[Path] = typer.Argument(..., help="Image files (JPEG, PNG, WebP ...)."),
    top: int = typer.Option(5, "--top", help="How many classes to show per image."),
    as_json: bool = typer.Option(
        False, "--json", help='Print JSON: [{"image": path, "top": [{"index": int, "label": str, "probability": float}, ...]}, ...] (docs/serving.md).'
    ),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint for a model name."),
    labels: Path | None = LabelsOption,
    batch_size: int = typer.Option(8, "--batch-size", help="Images per inference call."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Top-k classes for each image (softmax probabilities, named by the artifact's labels), in the same JSON
    schema as ``lsnet serve``. Images are streamed: one batch of pixels in memory at a time."""
    from lsnet.runtimes.evaluate import open_classifier
    from lsnet.runtimes.predictions import class_names, decode_image, image_pixels, prediction, top_k

    if top < 1 or batch_size < 1:
        raise UnknownOptionError("--top and --batch-size must be >= 1.")
    if Path(artifact).suffix and not Path(artifact).exists():
        raise LsnetError(f"artifact not found: {artifact}. Pass an existing .onnx/.engine/.mlpackage/.pth file or a model name.")
    for path in images:  # a missing file or bad header fails before any model is built (headers only)
        image_pixels(path)
    classifier = open_classifier(artifact, weights=weights, labels=labels, device=device)
    names = class_names(classifier.num_classes, classifier.labels)
    results = []
    with classifier.runner as runner:
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            pixels = np.stack([decode_image(p, classifier.preprocessing) for p in chunk])
            rows = top_k(infer_in_chunks(runner, pixels, batch_size), top, names)
            if as_json:
                results.extend(prediction(str(p), r) for p, r in zip(chunk, rows))
                continue
            for path, ranked in zip(chunk, rows):
                typer.echo(str(path))
                for row in ranked:
                    typer.echo(f"  {row['probability']:7.2%}  {row['label']} ({row['index']})")
    if as_json:
        typer.echo(json.dumps(results, indent=2))
