"""Service settings and the metadata describing the served model."""
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsnet.errors import UnknownOptionError
from lsnet.runtimes.base import Runner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    """Batching, limits and response shape of one service."""

    max_batch: int = 16
    max_wait_ms: float = 5.0
    queue_size: int = 64
    max_body_mb: float = 20.0
    top: int = 5
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_batch", "queue_size", "top"):
            if getattr(self, name) < 1:
                raise UnknownOptionError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}.")
        if self.max_wait_ms < 0:
            raise UnknownOptionError(f"--max-wait-ms must be >= 0, got {self.max_wait_ms}.")
        for name in ("max_body_mb", "timeout_s"):
            if getattr(self, name) <= 0:
                raise UnknownOptionError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}.")

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
