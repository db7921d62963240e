"""``lsnet predict``: classify images with a checkpoint, a model name or any exported artifact."""
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import typer

from lsnet.errors import ArtifactError, LsnetError, UnknownOptionError
from lsnet.runtimes.base import Runner, pad_batch

log = logging.getLogger(__name__)

CHECKPOINT_SUFFIXES = {".pth", ".pt", ".safetensors"}


def open_predictor(artifact: str, weights: Path | None = None, device: str = "cpu") -> tuple[Runner, dict[str, Any]]:
    """A runner for ``artifact`` and the preprocessing fields (sidecar or the model's pretrained_cfg)."""
    from lsnet.runtimes.registry import open_runner
    from lsnet.variants import VARIANTS

    if artifact in VARIANTS:
        from lsnet.factory import create_model

        if weights is None:
            log.warning("no --weights given: %s is randomly initialised, so its predictions are meaningless", artifact)
        runner = open_runner(create_model(artifact, checkpoint_path=weights), device=device)
    else:
        if weights is not None:
            raise UnknownOptionError("--weights applies to a model name only; an artifact or checkpoint carries its own weights.")
        runner = open_runner(artifact, device=device)
    model = getattr(runner, "model", None)
    if model is not None and hasattr(model, "pretrained_cfg"):
        return runner, model.pretrained_cfg.to_dict()
    metadata = runner.info.metadata
    if not all(k in metadata for k in ("mean", "std", "crop_pct", "interpolation", "img_size")):
        raise ArtifactError(f"{artifact} has no sidecar with its preprocessing; keep the .json file beside it.")
    return runner, metadata


def classify(runner: Runner, batch: np.ndarray, batch_size: int) -> np.ndarray:
    """Logits for every image, in chunks of ``batch_size``; fixed-batch artifacts get zero padding."""
    fixed = runner.input_spec.shape[0]
    step = fixed or batch_size
    outputs = []
    for start in range(0, len(batch), step):
        chunk = batch[start : start + step]
        outputs.append(runner.infer(pad_batch(chunk, fixed))[: len(chunk)])
    return np.concatenate(outputs)


def predict(
    artifact: str = typer.Argument(..., help="Model name, checkpoint (.pth/.safetensors) or artifact (.onnx, .engine, ...)."),
    images: list[Path] = typer.Argument(..., help="Image files (JPEG, PNG, WebP ...)."),
    top: int = typer.Option(5, "--top", help="How many classes to show per image."),
    as_json: bool = typer.Option(
        False, "--json", help='Print JSON: [{"image": path, "top": [{"index": int, "label": str, "probability": float}, ...]}, ...] (docs/serving.md).'
    ),
    weights: Path | None = typer.Option(None, "--weights", help="Checkpoint for a model name."),
    batch_size: int = typer.Option(8, "--batch-size", help="Images per inference call."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Top-k classes for each image (softmax probabilities), in the same JSON schema as ``lsnet serve``."""
    from lsnet.preprocess import load_image, preprocess_from_metadata
    from lsnet.runtimes.predictions import class_names, prediction, top_k

    if top < 1 or batch_size < 1:
        raise UnknownOptionError("--top and --batch-size must be >= 1.")
    if Path(artifact).suffix and not Path(artifact).exists():
        raise LsnetError(f"artifact not found: {artifact}. Pass an existing .onnx/.engine/.mlpackage/.pth file or a model name.")
    loaded = [load_image(path) for path in images]  # a bad file fails before any model is built
    runner, cfg = open_predictor(artifact, weights, device)
    with runner:
        pixels = np.stack([preprocess_from_metadata(image, cfg) for image in loaded])
        logits = classify(runner, pixels, batch_size)
    results = top_k(logits, top, class_names(logits.shape[1], cfg.get("labels")))
    if as_json:
        typer.echo(json.dumps([prediction(str(p), r) for p, r in zip(images, results)], indent=2))
        return
    for path, rows in zip(images, results):
        typer.echo(str(path))
        for row in rows:
            typer.echo(f"  {row['probability']:7.2%}  {row['label']} ({row['index']})")
