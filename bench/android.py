"""Android results in the tools' own formats -> ``lsnet-bench/1`` documents for ``lsnet bench import``.

- LiteRT ``benchmark_model`` (the command-line binary or its APK): the text log. The measured runs are the last
  ``count=N first=.. curr=.. min=.. max=.. avg=.. std=..`` line (microseconds); the settings echo gives the graph
  path and thread count. The tool prints no median: p50 is its ``avg``, said in the settings notes.
- ExecuTorch's benchmark app (``extension/benchmark/android/benchmark``, "minibench"): ``benchmark_results.json``,
  a list of ``{"benchmarkModel": {name, backend, quantization}, "metric", "actualValue", "targetValue",
  "deviceInfo"}`` entries; ``avg_inference_latency(ms)`` is the latency, ``model_load_time(ms)`` is kept as a note.
"""
import json
import re
import time
from pathlib import Path
from typing import Any

from lsnet.bench.results import SCHEMA
from lsnet.errors import LsnetError

STAT_LINE = re.compile(r"count=(?P<count>\d+)(?P<rest>.*)")
FIELD = re.compile(r"(\w+)=([-\d.eE+]+)")
SETTING = re.compile(r"^(?:INFO:\s*)?(?P<key>[A-Za-z][\w \-()]*?):\s*\[(?P<value>[^\]]*)\]\s*$")


class AndroidResultsError(LsnetError):
    """A phone benchmark output that cannot be read."""


def detect(text: str) -> str | None:
    """'litert-benchmark-model', 'executorch-benchmark' or None for a file in neither tool's format."""
    if "Inference timings in us" in text or re.search(r"^\s*(INFO:\s*)?count=\d+ .*avg=", text, re.M):
        return "litert-benchmark-model"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict) and "benchmarkModel" in data[0]:
        return "executorch-benchmark"
    return None


def _row(target: str, runtime: str, precision: str, latency_ms: dict[str, float], iterations: int | None,
         metadata: dict[str, Any]) -> dict[str, Any]:
    row = {
        "target": target, "model": Path(target).stem.split("_fp16")[0].split("_int8")[0], "runtime": runtime,
        "device": "cpu", "precision": precision, "batch": 1, "latency_ms": latency_ms,
        "throughput_ips": 1000.0 / latency_ms["mean"], "status": "ok", "metadata": metadata,
    }
    if iterations:
        row["iterations"] = iterations
    return row


def _document(rows: list[dict[str, Any]], machine: str, os_name: str, source: str, threads: int | None,
              notes: list[str]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {"machine": machine, "os": os_name, "threads": threads, "source": source},
        "settings": {"protocol": source, "batches": [1], "notes": notes},
        "rows": rows,
    }


def parse_benchmark_model(text: str, device_name: str | None) -> dict[str, Any]:
    """A LiteRT ``benchmark_model`` log as a results document (one row)."""
    settings = {m["key"].strip().lower(): m["value"] for m in map(SETTING.match, text.splitlines()) if m}
    stats = [STAT_LINE.search(line) for line in text.splitlines()]
    stats = [s for s in stats if s and "avg=" in s["rest"]]
    if not stats:
        raise AndroidResultsError("no 'count=... avg=...' line in the benchmark_model log: pass the tool's full output.")
    last = {k: float(v) for k, v in FIELD.findall(stats[-1].group(0))}
    ms = {key: last[key] / 1000.0 for key in ("min", "avg", "std") if key in last}
    median = last.get("p50", last.get("median"))
    latency = {"min": ms["min"], "mean": ms["avg"], "p50": median / 1000.0 if median else ms["avg"]}
    if "std" in ms:
        latency["std"] = ms["std"]
    graph = settings.get("graph", "model.tflite")
    threads = int(settings["num threads"]) if settings.get("num threads", "").lstrip("-").isdigit() else None
    delegate = "xnnpack" if settings.get("use xnnpack", "").lower() in ("1", "true") else "default delegates"
    notes = [f"LiteRT benchmark_model, {int(last['count'])} timed runs, {threads or 'default'} threads, {delegate}"]
    if not median:
        notes.append("benchmark_model prints no median: p50 is its average")
    precision = "fp16" if "fp16" in Path(graph).name else "int8" if "int8" in Path(graph).name else "fp32"
    row = _row(Path(graph).name, "litert", precision, latency, int(last["count"]), {"graph": graph, "delegate": delegate})
    return _document([row], device_name or "Android device", "Android", "litert-benchmark-model", threads, notes)


def parse_executorch_benchmark(text: str, device_name: str | None) -> dict[str, Any]:
    """ExecuTorch's Android benchmark app ``benchmark_results.json`` as a results document (one row per model)."""
    entries = json.loads(text)
    by_model: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}
    for entry in entries:
        model = entry.get("benchmarkModel") or {}
        name = str(model.get("name") or "model")
        by_model.setdefault(name, {"model": model})[str(entry.get("metric"))] = entry.get("actualValue")
        info = entry.get("deviceInfo") or info
    rows, notes = [], ["ExecuTorch Android benchmark app (benchmark_results.json); p50 is the app's average latency"]
    for name, metrics in by_model.items():
        latency = metrics.get("avg_inference_latency(ms)")
        if not latency:
            continue
        model = metrics["model"]
        precision = "int8" if "8" in str(model.get("quantization") or "") else "fp32"
        ms = float(latency)
        rows.append(_row(f"{name}.pte", "executorch", precision, {"min": ms, "p50": ms, "mean": ms}, None,
                         {"backend": model.get("backend"), "quantization": model.get("quantization"),
                          "model_load_time_ms": metrics.get("model_load_time(ms)")}))
    if not rows:
        raise AndroidResultsError("benchmark_results.json has no avg_inference_latency(ms) entry: did the benchmark finish?")
    machine = device_name or " ".join(str(info.get(k)) for k in ("device",) if info.get(k)) or "Android device"
    os_name = f"Android {info['os']}" if info.get("os") else "Android"
    return _document(rows, machine, os_name, "executorch-benchmark", None, notes)


def parse_android(path: Path, device_name: str | None = None) -> dict[str, Any] | None:
    """The results document for an Android tool's output file, or None when ``path`` is in neither format."""
    text = Path(path).read_text(errors="replace")
    kind = detect(text)
    if kind == "litert-benchmark-model":
        return parse_benchmark_model(text, device_name)
    if kind == "executorch-benchmark":
        return parse_executorch_benchmark(text, device_name)
    return None
