"""``lsnet bench import`` of Android tools' own outputs: a LiteRT benchmark_model log and ExecuTorch's benchmark-app
JSON (samples in their documented formats, tests/fixtures/android/) become schema-valid rows in the report."""
import json
from pathlib import Path

import jsonschema
import pytest

from lsnet.bench import report, results
from lsnet.bench.android import AndroidResultsError, detect, parse_benchmark_model
from lsnet.bench.importer import import_results

SAMPLES = Path(__file__).parent / "fixtures" / "android"
SCHEMA = json.loads(results.SCHEMA_PATH.read_text())


def test_benchmark_model_log_becomes_one_litert_row(tmp_path: Path) -> None:
    copied = import_results(SAMPLES / "benchmark_model_pixel.log", tmp_path, device_name="Pixel 8 (Tensor G3)")
    doc = json.loads(copied.read_text())
    jsonschema.validate(doc, SCHEMA)
    (row,) = doc["rows"]
    assert row["target"] == "lsnet_t.tflite" and row["model"] == "lsnet_t" and row["runtime"] == "litert"
    assert row["latency_ms"] == {"min": 11.431, "mean": 11.6492, "p50": 11.6492, "std": 0.187}  # the timed runs, not warm-up
    assert row["iterations"] == 86 and row["throughput_ips"] == pytest.approx(1000 / 11.6492)
    assert doc["environment"]["machine"] == "Pixel 8 (Tensor G3)" and doc["environment"]["threads"] == 4
    assert any("p50 is its average" in n for n in doc["settings"]["notes"])
    assert "Pixel 8 (Tensor G3)" in report.markdown_table([doc]) and "11.6" in report.markdown_table([doc])


def test_executorch_benchmark_json_becomes_one_row_per_model(tmp_path: Path) -> None:
    copied = import_results(SAMPLES / "executorch_benchmark_results.json", tmp_path)
    doc = json.loads(copied.read_text())
    jsonschema.validate(doc, SCHEMA)
    fp32, int8 = doc["rows"]  # the app's own fields (BenchmarkMetric.java); lsnet_s_fp16 failed to load: no row
    assert fp32["target"] == "lsnet_t.pte" and fp32["runtime"] == "executorch" and fp32["precision"] == "fp32"
    assert fp32["latency_ms"]["mean"] == 14.62 and fp32["latency_ms"]["p50"] == 14.1
    assert fp32["metadata"]["model_load_time_ms"] == 48.0
    assert int8["target"] == "lsnet_t_int8.pte" and int8["precision"] == "int8" and int8["model"] == "lsnet_t"
    assert any("lsnet_s_fp16.pte did not load" in note for note in doc["settings"]["notes"])
    assert doc["environment"]["machine"] == "google Pixel 8" and doc["environment"]["os"] == "Android 14"


def test_other_files_are_not_taken_for_android_outputs() -> None:
    assert detect(json.dumps({"schema": "lsnet-bench/1"})) is None and detect("hello") is None
    assert detect((SAMPLES / "benchmark_model_pixel.log").read_text()) == "litert-benchmark-model"


def test_log_without_timed_runs_is_one_clear_error() -> None:
    with pytest.raises(AndroidResultsError, match="count=... avg="):
        parse_benchmark_model("INFO: Inference timings in us: Init: 1\nERROR: failed to invoke\n", None)
