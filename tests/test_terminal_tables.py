"""Benchmark tables on a terminal: eight narrow columns and the ratio explained; files keep every column."""
from lsnet.bench.report import RATIO_NOTE, markdown_table, render, terminal_table


def results_doc() -> dict:
    """A results document with two targets at two batch sizes (fields as written by lsnet bench)."""
    def row(target: str, runtime: str, batch: int, p50: float, ratio: float) -> dict:
        return {
            "target": target, "runtime": runtime, "device": "cpu", "precision": "fp32", "ska": "conv_im2col",
            "batch": batch, "latency_ms": {"p50": p50, "p90": p50 * 1.1, "p99": p50 * 1.3, "mean": p50, "std": 0.1, "min": p50 * 0.9},
            "throughput_ips": batch * 1000 / p50, "peak_memory_mb": None, "ratio_to_first": ratio,
        }

    return {
        "environment": {"machine": "AMD EPYC 7B13 (2 cores)", "os": "Linux", "source": "lsnet bench run"},
        "rows": [row("lsnet_t", "pytorch", 1, 10.65, 1.0), row("lsnet_t.onnx", "onnxruntime", 1, 3.212, 0.3016),
                 row("lsnet_t", "pytorch", 8, 30.24, 1.0), row("lsnet_t.onnx", "onnxruntime", 8, 18.96, 0.627)],
    }


def test_terminal_table_is_narrow_with_the_ratio_explained():
    text = terminal_table([results_doc()])
    lines = text.splitlines()
    assert lines[0].split() == ["target", "runtime", "precision", "batch", "p50", "ms", "p90", "ms", "img/s", "ratio"]
    assert lines[1].split() == ["lsnet_t", "pytorch", "fp32", "1", "10.650", "11.715", "93.9", "1.00"]
    assert lines[2].split()[-1] == "0.30" and lines[4].split()[-1] == "0.63"
    assert max(len(line) for line in lines[:5]) <= 80
    assert RATIO_NOTE in text and "first target at the same batch" in RATIO_NOTE
    assert "-" not in "".join(lines[1:5]).replace("lsnet_t", "")  # no columns of dashes


def test_files_keep_the_full_table():
    header = markdown_table([results_doc()]).splitlines()[0]
    for column in ("Machine", "p99 ms", "std ms", "peak MiB", "x first"):
        assert column in header


def test_terminal_report_keeps_the_notes_below_the_table():
    text = render([(None, results_doc())], table=terminal_table)
    assert text.startswith("target ") and RATIO_NOTE in text and "| Machine |" not in text
