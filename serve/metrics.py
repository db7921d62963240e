"""Prometheus text-exposition metrics (counters, gauges, histograms) without a client library."""
import threading
from collections.abc import Callable, Sequence

LabelKey = tuple[tuple[str, str], ...]


def _labels(key: LabelKey, extra: str = "") -> str:
    parts = [f'{k}="{v}"' for k, v in key] + ([extra] if extra else [])
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str) -> None:
        self.name, self.help = name, help
        self._values: dict[LabelKey, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """Current count for one label set (0 if never incremented)."""
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self._values.items())]


class Gauge:
    """A value read when scraped (e.g. the queue depth)."""

    kind = "gauge"

    def __init__(self, name: str, help: str, read: Callable[[], float]) -> None:
        self.name, self.help, self.read = name, help, read

    def samples(self) -> list[str]:
        return [f"{self.name} {_number(self.read())}"]


class Histogram:
    """Cumulative buckets, sum and count of observed values."""

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: Sequence[float]) -> None:
        self.name, self.help = name, help
        self.bounds = sorted(buckets) + [float("inf")]
        self._counts = [0] * len(self.bounds)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            for i, bound in enumerate(self.bounds):
                if value <= bound:
                    self._counts[i] += 1
                    break

    @property
    def count(self) -> int:
        return sum(self._counts)

    def samples(self) -> list[str]:
        with self._lock:
            lines, running = [], 0
            for bound, n in zip(self.bounds, self._counts):
                running += n
                lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
            lines += [f"{self.name}_sum {_number(self._sum)}", f"{self.name}_count {running}"]
            return lines


class ServeMetrics:
    """The service's metrics: requests by endpoint and status, latency, batch sizes, queue depth."""

    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self, queue_depth: Callable[[], float], max_batch: int) -> None:
        self.requests = Counter("lsnet_requests_total", "HTTP requests by endpoint and status code.")
        self.images = Counter("lsnet_images_total", "Images classified.")
        self.latency = Histogram(
            "lsnet_request_latency_seconds",
            "Time from receiving a /predict request to its response.",
            [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
        )
        self.batch_size = Histogram(
            "lsnet_batch_size", "Images per inference batch.", sorted({1, 2, 4, 8, 16, 32, 64, max_batch})
        )
        self.inference = Histogram(
            "lsnet_inference_seconds", "Runtime call time per batch.", [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
        )
        self.queue_depth = Gauge("lsnet_queue_depth", "Images waiting for a batch.", queue_depth)

    def render(self) -> str:
        """All metrics in the Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []
        for metric in (self.requests, self.images, self.latency, self.batch_size, self.inference, self.queue_depth):
            out += [f"# HELP {metric.name} {metric.help}", f"# TYPE {metric.name} {metric.kind}", *metric.samples()]
        return "\n".join(out) + "\n"
