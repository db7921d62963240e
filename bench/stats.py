"""Summary statistics of per-iteration latencies."""
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LatencyStats:
    """Latency of one batch in milliseconds, and images per second at that batch."""

    p50: float
    p90: float
    p99: float
    mean: float
    std: float
    min: float
    throughput_ips: float
    iterations: int

    def latency_dict(self) -> dict[str, float]:
        """The ``latency_ms`` object of a results row."""
        data = asdict(self)
        del data["throughput_ips"], data["iterations"]
        return data


def summarize(durations_ns: Sequence[int], batch: int) -> LatencyStats:
    """Percentiles (linear interpolation, as numpy), mean, population std and min; throughput = batch / mean."""
    if not len(durations_ns):
        raise ValueError("no timed iterations to summarize")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    ms = np.asarray(durations_ns, dtype=np.float64) / 1e6
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    mean = float(ms.mean())
    return LatencyStats(
        p50=float(p50),
        p90=float(p90),
        p99=float(p99),
        mean=mean,
        std=float(ms.std()),
        min=float(ms.min()),
        throughput_ips=batch / (mean / 1e3) if mean > 0 else float("inf"),
        iterations=len(ms),
    )
