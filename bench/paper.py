"""The paper's throughput protocol and ``lsnet bench claims`` (paper figures beside measured ones).

Protocol of the official ``speed.py``: reparameterized model, eval, no grad, fp32 without autocast,
random 224x224 input, batch 2048 on GPU, 5 s warm-up, then at least 10 s of forwards with a
synchronize after each; throughput = batch / mean iteration time. Here the batch halves on
out-of-memory, and TF32 is switched off on GPU unless asked for (PyTorch's default lets cuDNN use
TF32 for convolutions on Ampere and later, which the official run on an RTX 3090 did).
"""
import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsnet.bench.harness import Candidate, Harness, Measurement, Settings
from lsnet.bench.memory import memory_probe
from lsnet.bench.timing import timer_for
from lsnet.errors import LsnetError

log = logging.getLogger(__name__)

PAPER_MODELS = ("lsnet_t", "lsnet_s", "lsnet_b")
PAPER_HARDWARE = "NVIDIA GeForce RTX 3090"
GPU_BATCH = 2048
CPU_BATCH = 16
PAPER_SETTINGS = Settings(warmup_s=5.0, warmup_iters=1, min_time_s=10.0, rounds=1)


@dataclass(frozen=True)
class Claim:
    """One paper figure and what we measured for it."""

    claim: str
    model: str
    paper: float | None
    measured: float | None
    unit: str
    hardware: str
    decimals: int = 1


def protocol_batch(device: str, batch: int | None) -> int:
    """The batch the protocol starts from: 2048 on GPU (halved on OOM), 16 on CPU, unless given."""
    return batch or (GPU_BATCH if device.startswith("cuda") else CPU_BATCH)


@contextmanager
def tf32(allowed: bool) -> Iterator[None]:
    """Set TF32 for matmul and cuDNN for the duration, then restore both flags."""
    import torch

    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def paper_throughput(
    names: list[str],
    device: str,
    *,
    batch: int | None = None,
    settings: Settings = PAPER_SETTINGS,
    allow_tf32: bool = False,
    step: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Each model measured alone with the paper protocol (one round, synchronize after every forward)."""
    from lsnet.runtimes.torch_runner import TorchRunner

    measurements: list[Measurement] = []
    with tf32(allow_tf32):
        for name in names:
            runner = TorchRunner(name, device=device, precision="fp32", reparameterize=True)
            candidate = Candidate(
                label=name, runner=runner, memory=memory_probe(runner.info.runtime, device),
                extra={"model": name, "ska": runner.info.metadata.get("ska"), "metadata": {"protocol": "paper", "tf32": allow_tf32}},
            )
            try:
                measurements += Harness(settings, timer_for(device), step).run([candidate], [protocol_batch(device, batch)])
            finally:
                runner.close()
    return measurements


def onnx_candidates(names: list[str], folder: Path, threads: int | None) -> tuple[list[Candidate], str | None]:
    """Our default ONNX export of each model opened in ONNX Runtime; ([], reason) when that is unavailable."""
    from lsnet.bench.targets import open_targets
    from lsnet.export import export

    paths = []
    try:
        for name in names:
            paths.append(str(export(name, "onnx", output=folder / f"{name}.onnx").path))
        return open_targets(paths, "cpu", threads=threads), None
    except (LsnetError, ImportError) as exc:
        return [], f"ONNX Runtime rows are missing: {exc}"


def cpu_latency(
    names: list[str], settings: Settings, threads: int | None, step: Callable[[str], None] | None
) -> tuple[list[Measurement], list[str]]:
    """Batch-1 CPU latency of each model in PyTorch eager and (when available) ONNX Runtime, interleaved."""
    from lsnet.bench.targets import open_targets

    notes = []
    with tempfile.TemporaryDirectory(prefix="lsnet-claims-") as folder:
        candidates = open_targets(list(names), "cpu", threads=threads)
        onnx, reason = onnx_candidates(names, Path(folder), threads)
        if reason:
            notes.append(reason)
        try:
            measurements = Harness(settings, timer_for("cpu"), step).run(candidates + onnx, [1])
        finally:
            for c in candidates + onnx:
                c.runner.close()
    for m in measurements:
        m.ratio_to_first = None  # the first target is one model; ratios across different models mean nothing here
    return measurements, notes


def size_claims(names: list[str]) -> list[Claim]:
    """Parameters and MACs (lsnet.profile, SKA counted as a KxK depthwise conv) beside the paper's."""
    from lsnet import create_model
    from lsnet.profile import profile
    from lsnet.variants import VARIANTS

    out = []
    for name in names:
        p = profile(create_model(name))
        out.append(Claim("params (M)", name, VARIANTS[name].paper_params_m, p.params / 1e6, "M", "counted", 2))
        out.append(Claim("MACs (G)", name, VARIANTS[name].paper_macs_g, p.macs / 1e9, "G", "counted at 224", 2))
    return out


def speed_claims(protocol: list[Measurement], latency: list[Measurement], machine: str, cpu: str) -> list[Claim]:
    """Throughput (paper protocol) and CPU batch-1 latency claims."""
    from lsnet.variants import VARIANTS

    out = []
    for m in protocol:
        name = m.candidate.label
        paper = VARIANTS[name].paper_throughput_3090 or None
        out.append(Claim("throughput", name, paper, m.stats.throughput_ips, "img/s", f"{machine}, batch {m.batch}", 0))
    for m in latency:
        model = m.candidate.extra.get("model") or m.candidate.label
        out.append(Claim(f"CPU batch-1 p50 latency, {m.candidate.runner.info.runtime} (ms)", model, None, m.stats.p50, "ms", cpu, 2))
    return out


def protocol_notes(device: str, batch: int, used: list[Measurement], allow_tf32: bool, settings: Settings) -> list[str]:
    """What differs from the official run, stated in the results file and the report."""
    notes = [
        f"Paper figures: {PAPER_HARDWARE}, batch {GPU_BATCH}, fp32. Weights are random (speed does not depend on them).",
        f"Protocol here: reparameterized, fp32, no autocast, {settings.warmup_s:g} s warm-up, >= {settings.min_time_s:g} s timed,"
        " synchronize after every forward; throughput = batch / mean iteration time.",
    ]
    if device.startswith("cuda"):
        notes.append(f"TF32 {'allowed' if allow_tf32 else 'off'} for matmul and cuDNN (the official run used PyTorch defaults, which allow TF32 in cuDNN convolutions).")
    else:
        notes.append(f"No GPU: the protocol ran on CPU with batch {batch} instead of {GPU_BATCH}; CPU figures are not comparable with the paper's GPU figures.")
    for m in used:
        if m.batch != m.requested_batch:
            notes.append(f"{m.candidate.label}: out of memory at batch {m.requested_batch}; measured at batch {m.batch}.")
    if settings != PAPER_SETTINGS:
        notes.append("Warm-up/timed durations were changed from the paper's 5 s / 10 s for this run.")
    return notes


def claims_extra(device: str, batch: int, protocol: list[Measurement], allow_tf32: bool, settings: Settings) -> dict[str, Any]:
    """Settings entries of a claims results file."""
    return {"notes": protocol_notes(device, batch, protocol, allow_tf32, settings), "paper_batch": GPU_BATCH, "batch": batch}
