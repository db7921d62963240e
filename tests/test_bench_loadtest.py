"""bench/loadtest.py rows: harness statistics, concurrency-aware throughput, schema-valid results (no server needed)."""
from pathlib import Path

import pytest

pytest.importorskip("httpx")
pytest.importorskip("jsonschema")


def test_load_level_becomes_a_schema_valid_row(tmp_path: Path) -> None:
    from lsnet.bench import loadtest, results
    from lsnet.bench.stats import summarize

    latencies_ns = [20_000_000 + 1_000_000 * (i % 5) for i in range(40)]  # 20-24 ms per request
    level = {"latencies": latencies_ns, "statuses": {"200": 40, "503": 2}, "elapsed": 0.25}
    meta = {"variant": "lsnet_t", "precision": "int8", "ska": "conv_im2col", "img_size": [224, 224]}
    row = loadtest.level_row(Path("m_int8.onnx"), meta, "lsnet_t", 4, level, "--max-batch 4")
    assert row["latency_ms"] == summarize(latencies_ns, 1).latency_dict()
    assert (row["iterations"], row["errors"], row["concurrency"], row["precision"]) == (40, 2, 4, "int8")
    assert row["throughput_ips"] == pytest.approx(160.0) and row["status"].startswith("error")
    env = loadtest.environment()
    assert env["source"] == "bench/loadtest.py" and "uvicorn" in env["versions"] and env["machine"]
    doc = results.validate(results.document([row], env, {"protocol": "closed-loop HTTP load"}))
    assert results.read(results.write(doc, tmp_path / "serve.json"))["rows"][0]["concurrency"] == 4
