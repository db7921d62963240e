"""Download the official LSNet weights from the Hugging Face hub."""
from pathlib import Path

from lsnet.errors import MissingDependencyError, PretrainedUnavailableError
from lsnet.variants import HF_HUB_IDS

PREFERRED_SUFFIXES = (".safetensors", ".pth", ".bin")


def pick_weights_file(files: list[str], name: str) -> str | None:
    """The weights file of a hub repository: prefer ``NAME.*``, then by suffix order."""
    candidates = [f for f in files if f.endswith(PREFERRED_SUFFIXES)]
    candidates.sort(key=lambda f: (Path(f).stem != name, PREFERRED_SUFFIXES.index(Path(f).suffix)))
    return candidates[0] if candidates else None


def download_pretrained(name: str) -> Path:
    """Fetch the official checkpoint of variant ``name`` (cached by huggingface_hub) and return its path."""
    try:
        from huggingface_hub import hf_hub_download, list_repo_files
    except ImportError as exc:  # pragma: no cover - huggingface_hub is a dependency
        raise MissingDependencyError("huggingface_hub is missing: pip install huggingface_hub") from exc
    repo_id = HF_HUB_IDS[name]
    try:
        filename = pick_weights_file(list_repo_files(repo_id), name)
        if filename is None:
            raise PretrainedUnavailableError(f"the hub repository {repo_id} has no weights file; pass --weights PATH.")
        return Path(hf_hub_download(repo_id, filename))
    except PretrainedUnavailableError:
        raise
    except Exception as exc:
        raise PretrainedUnavailableError(
            f"cannot download the official {name} weights from the Hugging Face hub ({repo_id}): "
            f"{type(exc).__name__}. If this machine is offline, download them elsewhere and pass --weights PATH."
        ) from exc
