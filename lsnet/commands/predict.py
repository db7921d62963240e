"""``lsnet predict``: classify images with a checkpoint, a model name or any exported artifact."""
import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from lsnet.commands.options import LabelsOption
from lsnet.errors import LsnetError, UnknownOptionError
from lsnet.runtimes.base import infer_in_chunks


def top_k(logits: np.ndarray, k: int, labels: list[str]) -> list[list[dict[str, Any]]]:
    """Softmax top-k per image as {class, label, probability}."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return [
        [{"class": int(c), "label": labels[c], "probability": float(p[c])} for c in row]
        for row, p in zip(order, probs)
    ]


def predict(
    artifact: str = typer.Argument(..., help="Model name, checkpoint (.pth/.safetensors) or artifact (.onnx, .engine, ...)."),
    images: list[Path] = typer.Argument(..., help="Image files (JPEG, PNG, WebP ...)."),
    top: int = typer.Option(5, "--top", help="How many classes to show per image."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint for a model name."),
    labels: Path | None = LabelsOption,
    batch_size: int = typer.Option(8, "--batch-size", help="Images per inference call."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Top-k classes for each image, named by the artifact's labels (ImageNet-1k for 1000 classes)."""
    from lsnet.labels import labels_for
    from lsnet.preprocess import ImageReadError, load_image, preprocess_from_metadata
    from lsnet.runtimes.evaluate import open_classifier

    if top < 1 or batch_size < 1:
        raise UnknownOptionError("--top and --batch-size must be >= 1.")
    if Path(artifact).suffix and not Path(artifact).exists():
        raise LsnetError(f"artifact not found: {artifact}. Pass an existing .onnx/.engine/.mlpackage/.pth file or a model name.")
    missing = next((p for p in images if not p.is_file()), None)
    if missing is not None:  # before any model is built
        raise ImageReadError(f"image not found: {missing}")
    classifier = open_classifier(artifact, weights=weights, labels=labels, device=device)
    names = labels_for(classifier.num_classes, classifier.labels)
    results = []
    with classifier.runner as runner:
        for start in range(0, len(images), batch_size):  # one batch of pixels in memory at a time
            chunk = images[start : start + batch_size]
            pixels = np.stack([preprocess_from_metadata(load_image(p), classifier.preprocessing) for p in chunk])
            rows = top_k(infer_in_chunks(runner, pixels, batch_size), min(top, classifier.num_classes), names)
            if as_json:
                results.extend({"image": str(p), "top": r} for p, r in zip(chunk, rows))
                continue
            for path, ranked in zip(chunk, rows):
                typer.echo(str(path))
                for row in ranked:
                    typer.echo(f"  {row['probability']:7.2%}  {row['label']} ({row['class']})")
    if as_json:
        typer.echo(json.dumps(results, indent=2))
