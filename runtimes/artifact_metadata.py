"""Artifact sidecars: ``model.onnx`` is described by ``model.onnx.json`` (written by export, read by runners)."""
import json
from pathlib import Path
from typing import Any


def sidecar_path(artifact: Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json`` (also for directories such as ``.mlpackage``)."""
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def read_sidecar(artifact: Path) -> dict[str, Any]:
    """The sidecar metadata of an artifact, or {} when it has none."""
    path = sidecar_path(artifact)
    return json.loads(path.read_text()) if path.is_file() else {}
