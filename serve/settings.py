"""Service settings and the metadata describing the served model."""
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsnet.errors import UnknownOptionError
from lsnet.runtimes.base import Runner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    """Batching, limits, timeouts and response shape of one service."""

    max_batch: int = 16
    max_wait_ms: float = 5.0
    queue_size: int = 64
    max_body_mb: float = 20.0
    top: int = 5
    timeout_s: float = 30.0
    max_pixels: int = 40_000_000
    decode_concurrency: int = 2
    read_timeout_s: float = 15.0
    keep_alive_s: float = 5.0
    max_connections: int = 256
    drain_timeout_s: float = 10.0
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_batch", "queue_size", "top", "max_pixels", "decode_concurrency", "max_connections"):
            if getattr(self, name) < 1:
                raise UnknownOptionError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}.")
        if self.max_wait_ms < 0:
            raise UnknownOptionError(f"--max-wait-ms must be >= 0, got {self.max_wait_ms}.")
        for name in ("max_body_mb", "timeout_s", "read_timeout_s", "keep_alive_s", "drain_timeout_s"):
            if getattr(self, name) <= 0:
                raise UnknownOptionError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}.")
        if self.api_key is not None and not self.api_key.strip():
            raise UnknownOptionError("--api-key (or LSNET_API_KEY) is empty; set a non-empty token or leave it unset.")

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def to_dict(self) -> dict[str, Any]:
        """The settings a client may see (the API key only as whether one is required)."""
        data = asdict(self)
        data["api_key"] = self.api_key is not None
        return data


PUBLIC_METADATA = (
    "variant", "task", "format", "precision", "input", "output", "mean", "std", "crop_pct", "interpolation",
    "img_size", "num_classes", "labels", "license", "paper", "weights_sha256",
)


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """What ``/metadata`` publishes: the model and its preprocessing, no local paths or tool versions."""
    data = {key: metadata[key] for key in PUBLIC_METADATA if key in metadata}
    data["random_init"] = metadata.get("weights") == "random-init"
    return data


def with_labels(metadata: dict[str, Any], labels: Sequence[str], runner: Runner) -> dict[str, Any]:
    """``metadata`` with ``labels`` (``lsnet serve --labels``) as the class names; one clear error when their number
    differs from the model's outputs."""
    from lsnet.labels import check_labels
    from lsnet.runtimes.evaluate import probe_classes

    num_classes = int(metadata.get("num_classes") or probe_classes(runner, metadata))
    check_labels(labels, num_classes, "--labels")
    return {**metadata, "num_classes": num_classes, "labels": list(labels)}


def serving_metadata(runner: Runner, artifact: str | Path | None) -> dict[str, Any]:
    """The artifact's sidecar, else the PyTorch model's pretrained_cfg, else ImageNet defaults at the runner's size."""
    from lsnet.config import PretrainedCfg
    from lsnet.runtimes.artifact_metadata import read_sidecar

    size = tuple(runner.input_spec.shape[2:])
    sidecar = read_sidecar(Path(artifact)) if artifact is not None and Path(str(artifact)).exists() else {}
    if sidecar:
        return {**sidecar, "img_size": list(size)}
    model = getattr(runner, "model", None)
    cfg = getattr(model, "pretrained_cfg", None)
    if cfg is None:
        log.warning("%s has no sidecar metadata: assuming ImageNet preprocessing at %dx%d", artifact, *size)
        cfg = PretrainedCfg(input_size=(3, *size))
    data = cfg.to_dict()
    return {**data, "variant": getattr(model, "name", None), "img_size": list(size), "task": "image-classification"}
