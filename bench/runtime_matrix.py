"""Model x runtime view of one runtime shoot-out run (bench/edge_runtimes.py): p50 per batch, each cell beside
the ONNX Runtime p50 of the same model in the same run."""
from typing import Any

RUNTIME_NAMES = {
    "onnxruntime": "ONNX Runtime",
    "onnxruntime-generic": "ONNX Runtime, no layout rewrites",
    "openvino": "OpenVINO",
    "litert": "LiteRT/XNNPACK",
    "executorch": "ExecuTorch/XNNPACK",
    "ncnn": "ncnn",
    "mnn": "MNN",
}
MIN_RUNTIMES = 3  # fewer is a plain comparison, already in the main table


def column(row: dict[str, Any]) -> str:
    """The runtime column of a row; LSNet's ONNX exported without our layout rewrites gets its own."""
    generic = row["runtime"] == "onnxruntime" and (row.get("metadata") or {}).get("rewrites") == []
    return "onnxruntime-generic" if generic else row["runtime"]


def model_label(row: dict[str, Any]) -> str:
    """The model of a row, with its precision when not FP32."""
    model = str(row.get("model") or row["target"])
    return model if row["precision"] == "fp32" else f"{model} {row['precision']}"


def p50_matrix(doc: dict[str, Any]) -> dict[int, dict[str, dict[str, float]]]:
    """batch -> model -> runtime column -> p50 ms (model-latency rows of one run; load-test rows left out)."""
    matrix: dict[int, dict[str, dict[str, float]]] = {}
    for row in doc["rows"]:
        if row.get("concurrency") is None and row["runtime"] != "pytorch":
            matrix.setdefault(row["batch"], {}).setdefault(model_label(row), {})[column(row)] = row["latency_ms"]["p50"]
    return matrix


def is_shootout(doc: dict[str, Any]) -> bool:
    """A run that measured its models in several runtimes, one artifact per model, runtime and batch (a run that
    compares variants of one runtime, e.g. SKA formulations, is not a model x runtime matrix)."""
    cells = [(r["batch"], model_label(r), column(r)) for r in doc["rows"]
             if r.get("concurrency") is None and r["runtime"] != "pytorch"]
    return len({c for _, _, c in cells}) >= MIN_RUNTIMES and len(set(cells)) == len(cells)


def columns(matrix: dict[int, dict[str, dict[str, float]]]) -> list[str]:
    """The runtime columns present, in a fixed order (unknown runtimes last)."""
    present = {c for models in matrix.values() for cells in models.values() for c in cells}
    return [c for c in RUNTIME_NAMES if c in present] + sorted(present - set(RUNTIME_NAMES))


def markdown_lines(doc: dict[str, Any]) -> list[str]:
    """One table per batch: p50 ms and (x ONNX Runtime of the same model), with each model's fastest runtime."""
    matrix = p50_matrix(doc)
    cols = columns(matrix)
    lines: list[str] = []
    for batch in sorted(matrix):
        lines += [
            "", f"Batch {batch}: p50 ms (x ONNX Runtime of the same model, same run)", "",
            "| Model | " + " | ".join(RUNTIME_NAMES.get(c, c) for c in cols) + " | Fastest |",
            "|---|" + "---:|" * len(cols) + "---|",
        ]
        for model, cells in matrix[batch].items():
            ort = cells.get("onnxruntime")
            shown = [
                "-" if c not in cells else f"{cells[c]:.3f}" + (f" ({cells[c] / ort:.2f}x)" if ort else "") for c in cols
            ]
            fastest = min(cells, key=cells.__getitem__)
            lines.append(f"| {model} | " + " | ".join(shown) + f" | {RUNTIME_NAMES.get(fastest, fastest)} |")
    return lines
