"""The measurement loop: warm-up, then timed rounds interleaved across targets, with OOM back-off.

For every batch size, each target is warmed up (at least ``warmup_s`` seconds of calls and at
least ``warmup_iters`` calls, none recorded), then ``rounds`` rounds visit the targets in the
given order; in each round a target runs until it has spent ``min_time_s / rounds`` seconds in
timed calls (at least one call). So every target is timed for at least ``min_time_s`` in total
and slow drifts of the machine (thermal state, other processes) affect all targets alike.
Elapsed time is the sum of the measured call durations, which keeps the loop deterministic
under an injected timer.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from lsnet.bench.memory import MemoryProbe, no_memory_probe
from lsnet.bench.stats import LatencyStats, summarize
from lsnet.bench.timing import Timer, cpu_timer
from lsnet.errors import LsnetError
from lsnet.runtimes.base import Runner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How long to warm up and to measure each configuration."""

    warmup_s: float = 1.0
    warmup_iters: int = 3
    min_time_s: float = 3.0
    rounds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        from lsnet.errors import UnknownOptionError

        if self.warmup_s < 0 or self.warmup_iters < 0:
            raise UnknownOptionError("--warmup and --warmup-iters must be >= 0.")
        if self.min_time_s <= 0:
            raise UnknownOptionError(f"--min-time must be > 0 seconds, got {self.min_time_s}.")
        if self.rounds < 1:
            raise UnknownOptionError(f"--rounds must be >= 1, got {self.rounds}.")


@dataclass
class Candidate:
    """One target opened in its runtime, with a label for reports and a memory probe."""

    label: str
    runner: Runner
    memory: MemoryProbe = no_memory_probe
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Measurement:
    """Timed calls of one candidate at one batch size."""

    candidate: Candidate
    batch: int
    requested_batch: int
    durations_ns: list[int] = field(default_factory=list)
    peak_memory_mb: float | None = None
    stats: LatencyStats | None = None
    ratio_to_first: float | None = None


@dataclass
class Skipped:
    """A configuration that could not be measured, and why."""

    label: str
    batch: int
    reason: str


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's OutOfMemoryError and for runtime errors that report running out of memory."""
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    text = str(exc).lower()
    return "out of memory" in text or "failed to allocate memory" in text


def release_memory() -> None:
    """Give cached GPU memory back after an out-of-memory error."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def random_batch(runner: Runner, batch: int, seed: int) -> np.ndarray:
    """A reproducible random NCHW batch in the runner's input shape and dtype."""
    _, channels, height, width = runner.input_spec.shape
    return normal_batch((batch, channels, height, width), seed).astype(runner.input_spec.dtype, copy=False)


@lru_cache(maxsize=1)
def normal_batch(shape: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """Standard-normal float32 images, drawn once for all targets of a run (a 2048-image batch takes seconds).

    float32 straight from the generator: a paper-protocol batch would need 2.5 GB as float64. Runners take
    their input read-only (``prepare`` copies or converts it), so every target gets the same images.
    """
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


class Harness:
    """Runs candidates over batch sizes; ``step`` is called once per warm-up and per round (progress)."""

    def __init__(self, settings: Settings, timer: Timer = cpu_timer, step: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.timer = timer
        self.step = step or (lambda _description: None)
        self.skipped: list[Skipped] = []

    def total_steps(self, candidates: int, batches: int) -> int:
        """How many times ``step`` will be called for a run of this size."""
        return candidates * batches * (self.settings.rounds + 1)

    def warm_up(self, candidate: Candidate, prepared: Any) -> None:
        """Untimed calls until both the warm-up time and the warm-up call count are reached."""
        spent, calls = 0, 0
        limit = self.settings.warmup_s * 1e9
        while spent < limit or calls < self.settings.warmup_iters:
            spent += self.timer(candidate.runner.infer_native, prepared)
            calls += 1

    def fit(self, candidate: Candidate, batch: int) -> tuple[int, Any] | None:
        """Prepare and warm up at ``batch``, halving it on out-of-memory; None when nothing fits."""
        requested = batch
        while batch >= 1:
            try:
                candidate.runner.input_spec.check_batch(batch)
            except LsnetError as exc:
                self.skipped.append(Skipped(candidate.label, requested, str(exc)))
                return None
            try:
                prepared = candidate.runner.prepare(random_batch(candidate.runner, batch, self.settings.seed))
                self.warm_up(candidate, prepared)
                return batch, prepared
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                prepared = None
                release_memory()
                log.warning("%s: out of memory at batch %d, trying %d", candidate.label, batch, batch // 2)
                batch //= 2
        self.skipped.append(Skipped(candidate.label, requested, "out of memory even at batch 1"))
        return None

    def timed_round(self, measurement: Measurement, prepared: Any, budget_ns: float) -> None:
        """Timed calls until ``budget_ns`` is spent (at least one call); tracks peak memory."""
        runner = measurement.candidate.runner
        probe = measurement.candidate.memory
        probe.start()
        spent = 0
        while spent < budget_ns or spent == 0:
            duration = self.timer(runner.infer_native, prepared)
            measurement.durations_ns.append(duration)
            spent += max(duration, 1)
        peak = probe.stop()
        if peak is not None:
            measurement.peak_memory_mb = max(peak, measurement.peak_memory_mb or 0.0)

    def run_batch(self, candidates: list[Candidate], batch: int, done: set[tuple[str, int]]) -> list[Measurement]:
        """All candidates at one batch size: warm-up each, then interleaved timed rounds."""
        active: list[tuple[Measurement, Any]] = []
        for candidate in candidates:
            self.step(f"warm-up {candidate.label} batch {batch}")
            fitted = self.fit(candidate, batch)
            if fitted is None:
                continue
            actual, prepared = fitted
            if (candidate.label, actual) in done:
                self.skipped.append(Skipped(candidate.label, batch, f"out of memory; batch {actual} is measured already"))
                continue
            done.add((candidate.label, actual))
            active.append((Measurement(candidate, actual, batch), prepared))
        budget = self.settings.min_time_s * 1e9 / self.settings.rounds
        for round_index in range(self.settings.rounds):
            for measurement, prepared in list(active):
                self.step(f"round {round_index + 1}/{self.settings.rounds} {measurement.candidate.label} batch {batch}")
                try:
                    self.timed_round(measurement, prepared, budget)
                except Exception as exc:
                    if not is_out_of_memory(exc):
                        raise
                    release_memory()
                    active.remove((measurement, prepared))
                    self.skipped.append(Skipped(measurement.candidate.label, batch, "out of memory during timed rounds"))
        return [m for m, _ in active]

    def run(self, candidates: list[Candidate], batches: list[int]) -> list[Measurement]:
        """Measure every candidate at every batch; statistics and ratios filled in."""
        done: set[tuple[str, int]] = set()
        measurements: list[Measurement] = []
        for batch in batches:
            measurements += self.run_batch(candidates, batch, done)
        for m in measurements:
            m.stats = summarize(m.durations_ns, m.batch)
        add_ratios(measurements, candidates[0].label if candidates else "")
        return measurements


def add_ratios(measurements: list[Measurement], first_label: str) -> None:
    """ratio_to_first = p50 / p50 of the first target at the same (actual) batch; None without one."""
    reference = {m.batch: m.stats.p50 for m in measurements if m.candidate.label == first_label and m.stats}
    for m in measurements:
        base = reference.get(m.batch)
        m.ratio_to_first = m.stats.p50 / base if m.stats and base else None
