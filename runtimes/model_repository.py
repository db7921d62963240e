"""Triton model repository paths: a model folder (latest version) or a version folder -> its model file."""
import re
from pathlib import Path

from lsnet.errors import ArtifactError

CONFIG_FILE = "config.pbtxt"
MODEL_FILES = ("model.onnx", "model.plan")
_DEFAULT_FILENAME = re.compile(r'^\s*default_model_filename\s*:\s*"([^"]+)"', re.MULTILINE)


def latest_version(model_dir: Path) -> Path:
    """The highest numbered version folder (Triton's default version policy serves the latest)."""
    numbers = [int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit() and p.name == str(int(p.name))]
    if not numbers:
        raise ArtifactError(f"{model_dir} has no version folder (1/, 2/, ...); export a model into it with lsnet export.")
    return model_dir / str(max(numbers))


def resolve_artifact(path: str | Path) -> Path:
    """``models/<name>`` (its latest version) or ``models/<name>/<version>`` -> the model file inside;
    any other path is returned unchanged."""
    path = Path(path)
    if not path.is_dir():
        return path
    if (path / CONFIG_FILE).is_file():
        model_dir, version_dir = path, latest_version(path)
    elif path.name.isdigit() and (path.parent / CONFIG_FILE).is_file():
        model_dir, version_dir = path.parent, path
    else:
        return path
    named = _DEFAULT_FILENAME.search((model_dir / CONFIG_FILE).read_text(errors="replace"))
    candidates = [named[1]] if named else list(MODEL_FILES)
    for filename in candidates:
        if (version_dir / filename).is_file():
            return version_dir / filename
    raise ArtifactError(f"{version_dir} holds no {' or '.join(candidates)}; re-export this model version.")
