"""Environment record and file naming shared by the serving and INT8 benchmark scripts (schema lsnet-bench/1)."""
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def environment(source: str) -> dict[str, Any]:
    """The machine a run happened on, in the results schema's terms."""
    from lsnet.export.metadata import tool_versions

    return {
        "machine": f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)",
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": platform.processor() or None,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": tool_versions("onnxruntime", "uvicorn", "starlette", "httpx"),
        "source": source,
    }


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p90/p99/mean/std/min in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90)), "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()), "std": float(ms.std()), "min": float(ms.min()),
    }


def default_results_path(prefix: str) -> Path:
    """bench/results/<prefix>_<host>_<date>.json"""
    return RESULTS / f"{prefix}_{socket.gethostname()}_{time.strftime('%Y-%m-%d')}.json"
