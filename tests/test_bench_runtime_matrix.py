"""bench/runtime_matrix.py: the model x runtime table and chart of one runtime shoot-out run."""
import copy
from pathlib import Path

import jsonschema
import pytest

from lsnet.bench import report, results, runtime_matrix

SCHEMA_TEXT = results.SCHEMA_PATH.read_text()


def row(target: str, model: str, runtime: str, batch: int, p50: float, metadata: dict | None = None) -> dict:
    """A measured row as the harness writes it."""
    return {
        "target": target, "model": model, "runtime": runtime, "device": "cpu", "precision": "fp32", "batch": batch,
        "latency_ms": {"p50": p50, "p90": p50, "p99": p50, "mean": p50, "std": 0.0, "min": p50},
        "throughput_ips": 1000.0 * batch / p50, "status": "ok", "metadata": metadata or {},
    }


def shootout_doc(created: str = "2026-12-01T10:00:00Z") -> dict:
    rows = []
    for batch, scale in ((1, 1.0), (8, 7.0)):
        rows += [
            row("lsnet_t.onnx", "lsnet_t", "onnxruntime", batch, 5.0 * scale, {"rewrites": ["se_resize_gate"]}),
            row("lsnet_t_generic.onnx", "lsnet_t", "onnxruntime", batch, 7.5 * scale, {"rewrites": []}),
            row("lsnet_t.xml", "lsnet_t", "openvino", batch, 10.0 * scale),
            row(f"lsnet_t_b{batch}.tflite", "lsnet_t", "litert", batch, 4.0 * scale),
            row("mobilenetv3_large_100.onnx", "mobilenetv3_large_100", "onnxruntime", batch, 2.0 * scale),
        ]
    return {
        "schema": results.SCHEMA, "created": created, "settings": {"batches": [1, 8]},
        "environment": {"machine": "Test CPU (2 cores)", "os": "Linux", "source": "bench/edge_runtimes.py"},
        "rows": rows,
    }


def test_table_puts_each_model_beside_its_own_onnx_runtime_time() -> None:
    import json

    doc = shootout_doc()
    jsonschema.validate(doc, json.loads(SCHEMA_TEXT))
    lines = runtime_matrix.markdown_lines(doc)
    header = next(line for line in lines if line.startswith("| Model"))
    assert header == (
        "| Model | ONNX Runtime | ONNX Runtime, no layout rewrites | OpenVINO | LiteRT/XNNPACK | Fastest |"
    )
    lsnet_b1 = next(line for line in lines if line.startswith("| lsnet_t"))
    assert lsnet_b1 == "| lsnet_t | 5.000 (1.00x) | 7.500 (1.50x) | 10.000 (2.00x) | 4.000 (0.80x) | LiteRT/XNNPACK |"
    peer_b8 = [line for line in lines if line.startswith("| mobilenetv3")][1]
    assert peer_b8 == "| mobilenetv3_large_100 | 14.000 (1.00x) | - | - | - | ONNX Runtime |"
    assert "Batch 8: p50 ms" in "\n".join(lines)


def test_report_shows_the_matrix_only_for_multi_runtime_runs() -> None:
    text = report.render([(Path("edge.json"), shootout_doc())])
    assert "Model x runtime (Test CPU (2 cores), edge.json):" in text
    two_runtimes = shootout_doc()
    two_runtimes["rows"] = [r for r in two_runtimes["rows"] if r["runtime"] == "onnxruntime"]
    assert not runtime_matrix.is_shootout(two_runtimes)
    assert "Model x runtime" not in report.render([(Path("ort.json"), two_runtimes)])
    two_skas = shootout_doc()  # two artifacts of one model in one runtime: a comparison of variants, not a matrix
    two_skas["rows"].append({**two_skas["rows"][2], "target": "lsnet_t_unfold.xml", "ska": "unfold"})
    assert not runtime_matrix.is_shootout(two_skas)


def test_chart_draws_the_newest_shootout_only(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    from lsnet.bench import plots

    older, newer = shootout_doc("2026-11-01T00:00:00Z"), shootout_doc("2026-12-01T00:00:00Z")
    newer["environment"]["machine"] = "Newer CPU"
    drawn = []
    monkeypatch.setattr(runtime_matrix, "p50_matrix", lambda doc, real=runtime_matrix.p50_matrix: drawn.append(doc) or real(doc))
    path = plots.runtime_matrix_chart([newer, copy.deepcopy(older)], tmp_path / "matrix.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and drawn == [newer]
    assert plots.runtime_matrix_chart([{**older, "rows": older["rows"][:1]}], tmp_path / "none.png") is None
