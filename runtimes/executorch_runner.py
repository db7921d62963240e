"""ExecuTorch runner: a ``.pte`` program in ExecuTorch's Python runtime (XNNPACK delegate on the CPU); no timing inside."""
from pathlib import Path

import numpy as np

from lsnet.deps import require
from lsnet.errors import ArtifactError
from lsnet.runtimes.base import InputSpec, Runner, RunnerInfo, artifact_file, require_cpu
from lsnet.runtimes.native_output import chatter_to_debug


class ExecuTorchRunner(Runner):
    """The ``forward`` method of a .pte program; its input shape (batch fixed at export) comes from the program.
    ``threads`` resizes ExecuTorch's CPU threadpool, which is process-wide (it applies to every open program)."""

    def __init__(self, path: str | Path, device: str = "cpu", *, threads: int | None = None) -> None:
        from lsnet.runtimes.artifact_metadata import read_sidecar

        with chatter_to_debug("executorch"):
            runtime = require("executorch.runtime", "executorch", "running ExecuTorch programs")
        require_cpu(device, "ExecuTorch")
        self.path = artifact_file(path, "ExecuTorch program", "pass the path of an exported .pte file")
        metadata = read_sidecar(self.path)
        if threads:
            from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

            with chatter_to_debug("executorch"):  # "Resetting threadpool to N threads."
                _unsafe_reset_threadpool(threads)
        try:
            with chatter_to_debug("executorch"):  # cpuinfo's probing lines
                self.method = runtime.Runtime.get().load_program(self.path).load_method("forward")
        except (RuntimeError, ValueError) as exc:
            raise ArtifactError(f"ExecuTorch cannot load {self.path} ({str(exc).splitlines()[0][:200]}); re-export it with lsnet export.") from exc
        batch, channels, height, width = (int(d) for d in self.method.metadata.input_tensor_meta(0).sizes())
        self.input_spec = InputSpec(name="input", shape=(batch, channels, height, width))
        self.info = RunnerInfo(runtime="executorch", device=device, precision=metadata.get("precision", "fp32"), metadata={**metadata, "threads": threads})

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Run one float batch and return float32 logits."""
        import torch

        self.input_spec.check_batch(batch.shape[0])
        (logits,) = self.method.execute([torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))])
        return logits.numpy().astype(np.float32, copy=True)

    def close(self) -> None:
        self.method = None
