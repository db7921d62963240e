"""ncnn runner: a ``.param`` + ``.bin`` pair in ncnn's Python binding on the CPU; no timing inside.

ncnn runs one image per extractor (its blobs have no batch axis), so ``infer`` loops over the batch: any batch size
works, and a batch costs about the sum of its images.
"""
from pathlib import Path
from typing import Any

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file, require_cpu

FP16_OPTIONS = ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage")


def input_size(param: Path, metadata: dict[str, Any]) -> tuple[int, int]:
    """(height, width) from the graph's ``Input`` layer (``0=w 1=h``, written by lsnet's export), else the sidecar."""
    for line in param.read_text(errors="replace").splitlines()[2:]:
        fields = line.split()
        if fields and fields[0] == "Input":
            params = dict(field.split("=", 1) for field in fields[4:] if "=" in field)
            if "0" in params and "1" in params:
                return int(params["1"]), int(params["0"])
            break
    if "img_size" in metadata:
        return int(metadata["img_size"][0]), int(metadata["img_size"][1])
    raise ArtifactError(f"{param} does not say its input size (no Input shape, no sidecar {param.name}.json); re-export it with lsnet export.")


class NcnnRunner(Runner):
    """An ncnn model on the CPU, computing in FP32 so results match PyTorch: ncnn's FP16/BF16 storage and arithmetic
    are off (ncnn turns them on by default where the CPU has them: ~7e-4 max abs logit error on lsnet_t here).
    ``fp16_compute=True`` turns them back on, as ncnn's own default on phones (not what parity checked)."""

    def __init__(self, path: str | Path, device: str = "cpu", *, threads: int | None = None, fp16_compute: bool = False) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar
        from lsnet.runtimes.native_output import native_output_captured

        ncnn = require("ncnn", "ncnn", "running ncnn models")
        require_cpu(device, "ncnn")
        self.path = artifact_file(path, "ncnn model", "pass the .param of an exported model")
        weights = self.path.with_suffix(".bin")
        if not weights.is_file():
            raise ArtifactError(f"{self.path} has no weights file {weights.name} beside it; copy both files.")
        metadata = read_sidecar(self.path)
        height, width = input_size(self.path, metadata)
        self.net = ncnn.Net()
        for option in FP16_OPTIONS:
            setattr(self.net.opt, option, fp16_compute)
        if threads:
            self.net.opt.num_threads = threads
        with native_output_captured() as printed:
            failed = self.net.load_param(str(self.path)) != 0 or self.net.load_model(str(weights)) != 0
        if failed or not self.net.input_names() or not self.net.output_names():
            raise ArtifactError(f"ncnn cannot load {self.path} ({printed.tail(200)}); re-export it with lsnet export.")
        self.mat = ncnn.Mat
        self.input_name, self.output_name = self.net.input_names()[0], self.net.output_names()[0]
        self.input_spec = InputSpec(name=self.input_name, shape=(None, 3, int(height), int(width)))
        self.info = RunnerInfo(runtime="ncnn", device=device, precision=metadata.get("precision", "fp32"),
                               metadata={**metadata, "threads": threads, "fp16_compute": fp16_compute, "batch": "one image per extractor"})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run every image of the float batch through its own extractor and return float32 logits."""
        self.input_spec.check_batch(batch.shape[0])
        return np.stack([self._one(np.ascontiguousarray(image, dtype=np.float32)) for image in batch])

    def _one(self, image: np.ndarray) -> Any:
        extractor = self.net.create_extractor()
        tensor = self.mat(image)  # wraps ``image`` without a copy: it must stay alive until extract returns
        extractor.input(self.input_name, tensor)
        status, logits = extractor.extract(self.output_name)
        if status != 0:
            raise ArtifactError(f"ncnn failed to run {self.path} (status {status}); re-export it with lsnet export.")
        return np.array(logits, dtype=np.float32).reshape(-1)

    def close(self) -> None:
        if getattr(self, "net", None) is not None:
            self.net.clear()
        self.net = None
