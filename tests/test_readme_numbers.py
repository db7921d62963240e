"""Every benchmark number in README.md equals its results file in bench/results/ at the precision quoted."""
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
README = (REPO / "README.md").read_text()
TEXT = " ".join(README.split())  # sentences wrap across lines

# README benchmark table: row label -> model stem; columns -> target name pattern in the results file
TABLE_ROWS = {
    "lsnet_t": "lsnet_t", "lsnet_s": "lsnet_s", "lsnet_b": "lsnet_b",
    "MobileNetV3-Large (peer, same ONNX path)": "mobilenetv3_large_100", "EfficientViT-M4 (peer)": "efficientvit_m4",
    "FastViT-T8 (peer)": "fastvit_t8", "RepViT-M1.1 (peer)": "repvit_m1_1",
}
TABLE_COLUMNS = ("{}.onnx", "{}_baseline.onnx", "{}@ska=reference")
EDGE = "edge_runtimes_cpu_vm_20261201.json"
LITERT_INT8 = "int8_vs_fp32_litert_cpu_vm_20261201.json"
OPENVINO_INT8 = "int8_vs_fp32_openvino_cpu_vm_20261201.json"


def rows(name: str) -> list[dict]:
    return json.loads((RESULTS / name).read_text())["rows"]


def p50(name: str, target: str, batch: int = 1, concurrency: int | None = None) -> float:
    """The p50 latency of one row of a results file."""
    return row(name, target, batch, concurrency)["latency_ms"]["p50"]


def row(name: str, target: str, batch: int = 1, concurrency: int | None = None) -> dict:
    found = [r for r in rows(name) if r["target"] == target and r["batch"] == batch and r.get("concurrency") == concurrency]
    assert len(found) == 1, (name, target, batch, concurrency)
    return found[0]


def claim(what: str, model: str) -> float:
    doc = json.loads((RESULTS / "claims_cpu_vm_20261123.json").read_text())
    return next(c["measured"] for c in doc["claims"] if c["claim"] == what and c["model"] == model)


def edge_ratio(target: str, batch: int, onnx: str = "lsnet_t.onnx") -> float:
    """p50 of one runtime over ONNX Runtime's (``onnx``, the same model) in the edge shoot-out (same run, same batch)."""
    return p50(EDGE, target, batch) / p50(EDGE, onnx, batch)


def assert_quoted(text: str, value: float) -> None:
    """``text`` is ``value`` written with as many decimals as ``text`` has (no double rounding)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert text == f"{value:.{decimals}f}", f"README says {text}, the results file gives {value}"


def benchmark_table() -> tuple[str, list[list[str]]]:
    """The results file the table cites and the table's body rows (cells stripped)."""
    source = re.search(r"From `bench/results/([^`]+)` \(one interleaved run\):", README)
    assert source, "the benchmark table no longer names its results file"
    lines = README[source.end():].strip().splitlines()
    body = [line for line in lines[: next(i for i, line in enumerate(lines) if not line.startswith("|"))][2:]]
    return source.group(1), [[cell.strip() for cell in line.strip("|").split("|")] for line in body]


def test_benchmark_table_equals_its_results_file():
    name, table = benchmark_table()
    assert {cells[0] for cells in table} == set(TABLE_ROWS)
    checked = 0
    for label, *cells in table:
        for pattern, cell in zip(TABLE_COLUMNS, cells):
            if cell:
                number = cell.removesuffix(" ms")
                assert_quoted(number, p50(name, pattern.format(TABLE_ROWS[label])))
                checked += 1
    assert checked >= 13


SENTENCES = [
    (r"Default vs straightforward ONNX export for lsnet_t: \*\*([\d.]+)x\*\*",
     lambda: [p50("cpu_vm_20261123.json", "lsnet_t.onnx") / p50("cpu_vm_20261123.json", "lsnet_t_baseline.onnx")]),
    (r"also ([\d.]+)x in the dedicated 20-round run",
     lambda: [row("onnx_rewrite_ablation_cpu_vm_20261123.json", "default.onnx")["ratio_to_first"]]),
    (r"\*\*([\d.]+)x EfficientViT-M4\*\*",
     lambda: [p50("cpu_vm_20261123.json", "lsnet_t.onnx") / p50("cpu_vm_20261123.json", "efficientvit_m4.onnx")]),
    (r"\*\*([\d.]+)x MobileNetV3-Large\*\*",
     lambda: [p50("cpu_vm_20261123.json", "lsnet_t.onnx") / p50("cpu_vm_20261123.json", "mobilenetv3_large_100.onnx")]),
    (r"CPU without VNNI: ([\d.]+)x at batch 1 and ([\d.]+)x at batch 8, against ([\d.]+)x and ([\d.]+)x",
     lambda: [row("int8_vs_fp32_cpu_vm_20261201.json", target, batch)["metadata"]["int8_over_fp32"]
              for target in ("lsnet_t_224_int8.onnx", "mobilenetv3_large_100_int8.onnx") for batch in (1, 8)]),
    (r"\(`-f litert --int8`\) held ([\d.]+)% held-out top-1 against FP32's ([\d.]+)% and ran at ([\d.]+)x",
     lambda: [100 * row(LITERT_INT8, "lsnet_t_224_int8.tflite")["metadata"]["accuracy"]["top1"],
              100 * row(LITERT_INT8, "lsnet_t_224.tflite")["metadata"]["accuracy"]["top1"],
              row(LITERT_INT8, "lsnet_t_224_int8.tflite")["metadata"]["int8_over_fp32"]]),
    (r"\(`-f openvino --int8`\) held ([\d.]+)% and ran at ([\d.]+)x at batch 1, ([\d.]+)x at batch 8",
     lambda: [100 * row(OPENVINO_INT8, "lsnet_t_224_int8.xml")["metadata"]["accuracy"]["top1"],
              *(row(OPENVINO_INT8, "lsnet_t_224_int8.xml", b)["metadata"]["int8_over_fp32"] for b in (1, 8))]),
    (r"(\d+) images/s with one client \(p50 ([\d.]+) ms",
     lambda: [row("serve_cpu_vm_20261123.json", "lsnet_t_224.onnx", 1, 1)["throughput_ips"],
              p50("serve_cpu_vm_20261123.json", "lsnet_t_224.onnx", 1, 1)]),
    (r"([\d.]+) images/s with 16 clients",
     lambda: [row("serve_cpu_vm_20261123.json", "lsnet_t_224.onnx", 1, 16)["throughput_ips"]]),
    (r"`--workers 2 --threads 1` served ([\d.]+)x the images/s of `--workers 1 --threads 2`",
     lambda: [row("serve_workers_vm_2026-12-01.json", "lsnet_t.onnx [w2t1]", 1, 16)["ratio_to_first"]]),
    (r"ran at ([\d.]+)x the p50 latency of ONNX Runtime on our default ONNX at batch 1 \(([\d.]+)x at batch 8\),\s+"
     r"OpenVINO at ([\d.]+)x, ExecuTorch/XNNPACK at ([\d.]+)x, ncnn at ([\d.]+)x and MNN at ([\d.]+)x",
     lambda: [edge_ratio(target, batch) for target, batch in (
         ("lsnet_t_b1.tflite", 1), ("lsnet_t_b8.tflite", 8), ("lsnet_t.xml", 1), ("lsnet_t_b1.pte", 1),
         ("lsnet_t.ncnn.param", 1), ("lsnet_t.mnn", 1))]),
    (r"For lsnet_s, LiteRT ran at ([\d.]+)x", lambda: [edge_ratio("lsnet_s_b1.tflite", 1, "lsnet_s.onnx")]),
    (r"MobileNetV3-Large ran at ([\d.]+)x of\s+its\s+own ONNX Runtime time in LiteRT",
     lambda: [edge_ratio("mobilenetv3_large_100_b1.tflite", 1, "mobilenetv3_large_100.onnx")]),
    (r"parameters ([\d.]+)/([\d.]+)/([\d.]+) M and MACs ([\d.]+)/([\d.]+)/([\d.]+) G",
     lambda: [claim(what, m) for what in ("params (M)", "MACs (G)") for m in ("lsnet_t", "lsnet_s", "lsnet_b")]),
    (r"batch 16: (\d+)/(\d+)/(\d+) images/s",
     lambda: [claim("throughput", m) for m in ("lsnet_t", "lsnet_s", "lsnet_b")]),
]


@pytest.mark.parametrize(("pattern", "values"), SENTENCES, ids=[p for p, _ in SENTENCES])
def test_numbers_in_sentences_equal_the_results_files(pattern, values):
    found = re.search(pattern, TEXT)
    assert found, f"README no longer says {pattern!r}: update the sentence and this test together"
    expected = values()
    assert len(found.groups()) == len(expected)
    for text, value in zip(found.groups(), expected):
        assert_quoted(text, value)


def test_double_rounding_is_caught():
    assert_quoted("2.51", 2.514822)
    with pytest.raises(AssertionError):
        assert_quoted("2.52", 2.514822)  # 2.514822 -> 2.515 -> 2.52 was the old README's peer latency


def test_readme_lists_every_extra():
    pyproject = (REPO / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    extras = set(re.findall(r"^([\w-]+) = \[", section, re.M))
    listed = re.search(r"Optional pieces are extras: (.*?)\.(?: |$)", TEXT)
    assert listed, "README no longer lists the extras"
    assert set(re.findall(r"`([\w-]+)`", listed.group(1))) == extras
