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
    """ExecuTorch's Android benchmark app ``benchmark_results.json`` as a results document (one row per model).

    The app splits the ``.pte`` file name ``<name>_<backend>_<quantization>`` into ``benchmarkModel`` (else the whole
    stem is the name); its ``deviceInfo`` holds ``device`` = Build.BRAND, ``arch`` = Build.MODEL and ``os`` =
    "Android <release>". A non-zero ``load_status`` means the model did not load: that model gets no row."""
    entries = json.loads(text)
    by_model: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}
    for entry in entries:
        model = entry.get("benchmarkModel") or {}
        stem = "_".join(str(model[k]) for k in ("name", "backend", "quantization") if model.get(k)) or "model"
        by_model.setdefault(stem, {"model": model})[str(entry.get("metric"))] = entry.get("actualValue")
        info = entry.get("deviceInfo") or info
    rows, notes = [], [
        "ExecuTorch Android benchmark app (benchmark_results.json): mean is the app's average latency; p50 is its"
        " trimmed mean (middle 80% of the runs) where it reports one, else the average",
    ]
    for stem, metrics in by_model.items():
        latency = metrics.get("avg_inference_latency(ms)")
        if metrics.get("load_status"):
            notes.append(f"{stem}.pte did not load on the phone (load_status {metrics['load_status']:g}): no row")
            continue
        if not latency:
            continue
        model, mean = metrics["model"], float(latency)
        central = float(metrics.get("trimmean_inference_latency(ms)") or mean)
        rows.append(_row(f"{stem}.pte", "executorch", _precision(stem), {"min": min(mean, central), "p50": central,
                         "mean": mean}, None, {"backend": model.get("backend"), "quantization": model.get("quantization"),
                         "model_load_time_ms": metrics.get("model_load_time(ms)")}))
    if not rows:
        raise AndroidResultsError(
            "benchmark_results.json has no loaded model with an avg_inference_latency(ms) entry: did the benchmark"
            " finish (load_status 0)?"
        )
    brand_model = " ".join(str(info[k]) for k in ("device", "arch") if info.get(k))
    os_name = str(info.get("os") or "")
    os_name = os_name if os_name.startswith("Android") else f"Android {os_name}".strip()
    return _document(rows, device_name or brand_model or "Android device", os_name, "executorch-benchmark", None, notes)


def _precision(stem: str) -> str:
    """fp16 / int8 / fp32 from an artifact's file name as lsnet names them (``_fp16``, ``_int8``; ``q8`` quantization)."""
    tokens = stem.lower().split("_")
    if "fp16" in tokens:
        return "fp16"
    return "int8" if {"int8", "q8", "8a8w"} & set(tokens) else "fp32"


def parse_android(path: Path, device_name: str | None = None) -> dict[str, Any] | None:
    """The results document for an Android tool's output file, or None when ``path`` is in neither format."""
    text = Path(path).read_text(errors="replace")
    kind = detect(text)
    if kind == "litert-benchmark-model":
        return parse_benchmark_model(text, device_name)
    if kind == "executorch-benchmark":
        return parse_executorch_benchmark(text, device_name)
    return None
