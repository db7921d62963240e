"""Tables from results files: markdown for docs, a narrow table for terminals, CSV, and the peer ratio checks."""
import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsnet.bench import results, runtime_matrix

# lsnet_t ONNX Runtime batch-1 p50 over the peer's, and the most it may be (the project's performance target)
PEER_TARGETS = (("efficientvit_m4", 1.0), ("mobilenetv3_large_100", 1.25))
# GPU run: eager FP32 throughput with our Triton SKA over the fastest pure-PyTorch formulation, at least
KERNEL_TARGET = 1.3
COLUMNS = (
    "machine", "target", "runtime", "device", "precision", "ska", "batch", "concurrency",
    "p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms", "min_ms", "throughput_ips", "peak_memory_mb", "ratio_to_first", "top1",
)
HEADERS = ("Machine", "Target", "Runtime", "Device", "Precision", "SKA", "Batch", "Clients",
           "p50 ms", "p90 ms", "p99 ms", "mean ms", "std ms", "min ms", "img/s", "peak MiB", "x first", "top-1")


def flat_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one results file as flat records with the machine they ran on."""
    env = doc["environment"]
    from_here = env.get("source", "lsnet bench").startswith(("lsnet", "bench/")) and not env.get("imported_from")
    machine = env["machine"] if from_here else f"{env['machine']} ({env['os']})"  # other devices show their OS
    out = []
    for r in doc["rows"]:
        lat = r["latency_ms"]
        out.append({
            "machine": machine,
            "target": r["target"],
            "model": r.get("model"),
            "runtime": r["runtime"],
            "device": r["device"],
            "precision": r["precision"],
            "ska": r.get("ska"),
            "batch": r["batch"],
            **{f"{k}_ms": lat.get(k) for k in ("p50", "p90", "p99", "mean", "std", "min")},
            "throughput_ips": r["throughput_ips"],
            "peak_memory_mb": r.get("peak_memory_mb"),
            "ratio_to_first": r.get("ratio_to_first"),
            "concurrency": r.get("concurrency"),
            "top1": (r.get("accuracy") or {}).get("top1"),
            "dataset": (r.get("accuracy") or {}).get("dataset"),
        })
    return out


def fmt(value: Any, key: str) -> str:
    """A table cell: 3 significant decimals for times, integers for throughput, '-' for missing."""
    if value is None or value == "":
        return "-"
    if key.endswith("_ms"):
        return f"{value:.3f}" if value < 100 else f"{value:.1f}"
    if key == "throughput_ips":
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    if key == "peak_memory_mb":
        return f"{value:,.0f}"
    if key == "ratio_to_first":
        return f"{value:.2f}"
    if key == "top1":
        return f"{100 * value:.1f}%"
    return str(value)


def markdown_table(docs: list[dict[str, Any]]) -> str:
    """One markdown table of every row of every document."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join("---" if i < 6 else "---:" for i in range(len(HEADERS))) + "|"]
    for doc in docs:
        for rec in flat_rows(doc):
            lines.append("| " + " | ".join(fmt(rec[c], c) for c in COLUMNS) + " |")
    return "\n".join(lines)


TERMINAL_COLUMNS = ("target", "runtime", "precision", "batch", "p50_ms", "p90_ms", "throughput_ips", "ratio_to_first")
TERMINAL_HEADERS = ("target", "runtime", "precision", "batch", "p50 ms", "p90 ms", "img/s", "ratio")
RATIO_NOTE = (
    "ratio = p50 / p50 of the first target at the same batch (below 1: faster than the first).\n"
    "Full table (p99, mean, std, min, memory, machine): --out FILE (JSON + markdown) or --csv FILE."
)


def terminal_table(docs: list[dict[str, Any]]) -> str:
    """A narrow aligned table for a terminal (8 columns, about 80 characters) and the note on the ratio column."""
    rows = [TERMINAL_HEADERS] + [
        tuple(fmt(rec[c], c) for c in TERMINAL_COLUMNS) for doc in docs for rec in flat_rows(doc)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TERMINAL_HEADERS))]
    numeric = {i for i, c in enumerate(TERMINAL_COLUMNS) if c not in ("target", "runtime", "precision")}

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(w) if i in numeric else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(rows[0]), *(line(row) for row in rows[1:]), "", RATIO_NOTE])


def csv_text(docs: list[dict[str, Any]]) -> str:
    """Every row as CSV with full precision."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for doc in docs:
        writer.writerows(flat_rows(doc))
    return buffer.getvalue()


def is_default_lsnet_onnx(row: dict[str, Any], model: str) -> bool:
    """An ONNX Runtime row of our default export of ``model`` (not the baseline export)."""
    meta = row.get("metadata") or {}
    return row.get("model") == model and row["runtime"] == "onnxruntime" and not meta.get("baseline") and "baseline" not in row["target"]


def peer_ratio_lines(doc: dict[str, Any], model: str = "lsnet_t", batch: int = 1) -> list[str]:
    """'lsnet_t ORT batch-1 p50 / peer p50 = r (target <= t: met)' for each peer measured in the same run."""
    ours = [r for r in doc["rows"] if r["batch"] == batch and is_default_lsnet_onnx(r, model)]
    if not ours:
        return []
    p50 = ours[0]["latency_ms"]["p50"]
    lines = []
    for peer, limit in PEER_TARGETS:
        theirs = [r for r in doc["rows"] if r["batch"] == batch and r.get("model") == peer and r["runtime"] == "onnxruntime"]
        if theirs:
            ratio = p50 / theirs[0]["latency_ms"]["p50"]
            verdict = "met" if ratio <= limit else "NOT met"
            lines.append(
                f"{model} ONNX Runtime batch-{batch} p50 {p50:.3f} ms / {peer} {theirs[0]['latency_ms']['p50']:.3f} ms"
                f" = {ratio:.2f} (target <= {limit:.2f}: {verdict})"
            )
    return lines


def claims_table(doc: dict[str, Any]) -> str:
    """Paper figure beside measured value, for a ``lsnet bench claims`` results file."""
    lines = ["| Claim | Model | Paper | Measured | Measured on |", "|---|---|---:|---:|---|"]
    for c in doc.get("claims", []):  # paper: a number as published, e.g. 11.4 or 14708
        measured = "-" if c.get("measured") is None else f"{c['measured']:,.{c.get('decimals', 1)}f}"
        paper = "-" if c.get("paper") is None else f"{c['paper']:,}"  # as published
        lines.append(f"| {c['claim']} | {c['model']} | {paper} | {measured} | {c.get('hardware', '-')} |")
    return "\n".join(lines)


def mode_rows(doc: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """Rows of ``model`` from a GPU run (bench/gpu: each row names its mode and carries its parity)."""
    return [r for r in doc["rows"] if r.get("model") == model and "parity" in (r.get("metadata") or {}) and "mode" in r["metadata"]]


def ips_cell(row: dict[str, Any] | None) -> str:
    """A row's throughput as a table cell ('-' without a row)."""
    return fmt(row["throughput_ips"] if row else None, "throughput_ips")


def gpu_run_lines(doc: dict[str, Any]) -> list[str]:
    """The paper's RTX 3090 throughput beside a GPU run's (the GPU named), and the headline ratios of that run:
    best mode / reference eager, and Triton eager / fastest pure-PyTorch eager (both FP32, same run)."""
    from lsnet.bench.gpu.modes import KERNEL_SKA, REFERENCE_SKA
    from lsnet.bench.paper import PAPER_HARDWARE
    from lsnet.variants import VARIANTS

    machine = doc["environment"]["machine"]
    table, headlines = [], []
    for model in dict.fromkeys(r.get("model") for r in doc["rows"]):
        rows = [r for r in mode_rows(doc, model) if r["metadata"]["parity"].get("passed")]
        eager = [r for r in rows if r["metadata"]["mode"] == "eager" and r["precision"] == "fp32"]
        reference = next((r for r in eager if r.get("ska") == REFERENCE_SKA), None)
        if reference is None:
            continue
        pure = max((r for r in eager if r.get("ska") != KERNEL_SKA), key=lambda r: r["throughput_ips"])
        kernel = next((r for r in eager if r.get("ska") == KERNEL_SKA), None)
        best = max(rows, key=lambda r: r["throughput_ips"])
        paper = VARIANTS[model].paper_throughput_3090 if model in VARIANTS else None
        ratio = best["throughput_ips"] / reference["throughput_ips"]
        kernel_ratio = kernel["throughput_ips"] / pure["throughput_ips"] if kernel else None
        table.append(
            f"| {model} | {f'{paper:,}' if paper else '-'} | {ips_cell(reference)} | {ips_cell(pure)} ({pure['ska']}) | {ips_cell(kernel)}"
            f" | {ips_cell(best)} (`{best['target']}`) | {ratio:.2f} | {'-' if kernel_ratio is None else f'{kernel_ratio:.2f}'} |"
        )
        verdict = "-" if kernel_ratio is None else f"{kernel_ratio:.2f} (target >= {KERNEL_TARGET}: {'met' if kernel_ratio >= KERNEL_TARGET else 'NOT met'})"
        headlines.append(f"- {model}: best mode `{best['target']}` = {ratio:.2f}x reference eager; Triton eager / fastest pure-PyTorch eager = {verdict}")
    if not table:
        return []
    batch = doc["settings"].get("batch")
    return [
        f"Paper ({PAPER_HARDWARE}, batch 2048, fp32 eager) beside {machine} (batch {batch}, img/s, rows whose parity passed;"
        " different GPUs, so compare the ratios measured in this one run):",
        "",
        f"| Model | Paper {PAPER_HARDWARE} | Reference eager | Fastest pure-PyTorch eager | Triton eager | Best mode | Best / reference | Triton / pure |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
        *table,
        "",
        f"Headline on {machine} (same run):",
        "",
        *headlines,
    ]


def source_line(path: Path | None, doc: dict[str, Any]) -> str:
    """'file: machine, os, source, created' for the header of a report."""
    env = doc["environment"]
    name = path.as_posix() if path else "this run"
    return f"- `{name}`: {env['machine']}, {env['os']}, {env.get('source', 'lsnet bench')}, {doc['created']} (protocol {doc['settings'].get('protocol', 'lsnet')})"


def render(docs: list[tuple[Path | None, dict[str, Any]]], command: str | None = None,
           table: Callable[[list[dict[str, Any]]], str] | None = None) -> str:
    """The full markdown report: provenance, one merged table (``table``, default markdown), peer ratios and paper claims."""
    parts = []
    if command:
        parts += [
            "# Benchmarks",
            "",
            f"This file is generated by `{command}`; do not edit it by hand. Sources:",
            "",
            *(source_line(p, d) for p, d in docs),
            "",
            "Latencies are per batch (milliseconds); img/s = batch / mean latency; `x first` = p50 / p50 of the first"
            " target of the same run at the same batch; top-1 = held-out accuracy measured by `lsnet eval` where the run"
            " was given a labelled folder (`lsnet bench --eval`). Method: docs/bench.md.",
            "",
        ]
    parts.append((table or markdown_table)([d for _, d in docs if d["rows"]]))
    for path, doc in docs:
        lines = peer_ratio_lines(doc)
        if lines:
            parts += ["", f"Performance target ({doc['environment']['machine']}, {path.name if path else 'this run'}):", ""]
            parts += [f"- {line}" for line in lines]
    for path, doc in docs:
        if runtime_matrix.is_shootout(doc):
            parts += ["", f"Model x runtime ({doc['environment']['machine']}, {path.name if path else 'this run'}):"]
            parts += runtime_matrix.markdown_lines(doc)
    for path, doc in docs:
        lines = gpu_run_lines(doc)
        if lines:
            parts += ["", f"GPU run ({path.name if path else 'this run'}):", "", *lines]
            parts += [f"\n{note}" for note in doc["settings"].get("notes", [])]
    for path, doc in docs:
        if doc.get("claims"):
            parts += ["", f"Paper claims vs measured ({path.name if path else 'this run'}):", "", claims_table(doc)]
            parts += [f"\n{note}" for note in doc["settings"].get("notes", [])]
    return "\n".join(parts) + "\n"


def load(paths: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Read and validate results files; folders contribute their *.json files."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise results.InvalidResultsError("no results files given: pass *.json files written by lsnet bench or bench import.")
    return [(f, results.read(f)) for f in files]
