"""Results files, report merging, CSV, plots and import: schema validity and clear rejections."""
import copy
import json
from pathlib import Path

import jsonschema
import pytest

from bench_fakes import MS, candidate, fake_timer
from lsnet.bench import report, results
from lsnet.bench.harness import Harness, Settings
from lsnet.bench.importer import import_results
from lsnet.bench.results import InvalidResultsError

SCHEMA = json.loads(results.SCHEMA_PATH.read_text())
ENV = {"machine": "Test CPU (2 cores)", "os": "Linux 6 x86_64", "source": "lsnet bench"}


def make_doc(models: dict[str, float], batches: tuple[int, ...] = (1, 8), env: dict | None = None) -> dict:
    """A results document measured with the fake runner: ``models`` maps label -> ms per image."""
    calls: list = []
    settings = Settings(warmup_s=0, warmup_iters=1, min_time_s=0.02, rounds=2)
    cands = [candidate(name, lambda b, i, per=per: int((per + 0.01 * (i % 3)) * MS * b), calls) for name, per in models.items()]
    for c in cands:
        c.extra["metadata"] = {"precision": "fp32"}
    harness = Harness(settings, fake_timer)
    return results.build(harness.run(cands, list(batches)), dict(env or ENV), settings, skipped=harness.skipped)


def swift_doc() -> dict:
    """What the Swift benchmark writes on an iPhone."""
    return {
        "schema": "lsnet-bench/1",
        "created": "2026-11-20T10:00:00Z",
        "environment": {"machine": "iPhone16,1", "os": "iOS 18.1", "source": "swift-benchmark"},
        "settings": {"warmup_iters": 10, "rounds": 20},
        "rows": [{
            "target": "lsnet_t.mlpackage", "model": "lsnet_t", "runtime": "coreml", "device": "cpu_and_ne",
            "precision": "fp16", "batch": 1, "latency_ms": {"p50": 1.2, "p90": 1.3, "p99": 1.5, "mean": 1.25, "std": 0.05, "min": 1.1},
            "throughput_ips": 800.0,
        }],
    }


def test_written_results_follow_the_schema(tmp_path: Path) -> None:
    doc = make_doc({"a": 1.0, "b": 2.0})
    path = results.write(doc, tmp_path / "r.json")
    loaded = json.loads(path.read_text())
    jsonschema.validate(loaded, SCHEMA)
    assert results.read(path) == loaded
    assert [r["ratio_to_first"] for r in loaded["rows"] if r["target"] == "b"] == [pytest.approx(2.0, rel=0.02)] * 2


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["rows"][0]["latency_ms"].update(p50=0.5, min=1.0), "min <= p50"),
        (lambda d: d["rows"][0].update(batch=0), "batch"),
        (lambda d: d["environment"].update(machine=" "), "environment.machine"),
        (lambda d: d["environment"].pop("os"), "'os' is a required property"),
        (lambda d: d["rows"][0].update(throughput_ips=1.0), "throughput_ips"),
        (lambda d: d.update(schema="lsnet-bench/0"), "schema"),
        (lambda d: d.update(rows=[]), "rows"),
    ],
)
def test_validate_rejects_malformed_documents(mutate, message: str) -> None:
    doc = swift_doc()
    mutate(doc)
    with pytest.raises(InvalidResultsError, match=message) as info:
        results.validate(doc, "phone.json")
    assert "\n" not in str(info.value)


def load_test_doc(throughput_ips: float) -> dict:
    """A load-test document (rows measured outside the harness): 4 requests in flight, 20 ms mean latency each."""
    row = {
        "target": "lsnet_t.onnx", "runtime": "lsnet-serve/onnxruntime", "device": "cpu", "precision": "fp32", "batch": 1,
        "concurrency": 4, "latency_ms": {"p50": 19.0, "p90": 24.0, "p99": 30.0, "mean": 20.0, "std": 3.0, "min": 15.0},
        "throughput_ips": throughput_ips, "iterations": 100,
    }
    return results.document([row], dict(ENV), {"protocol": "closed-loop HTTP load"})


def test_load_test_throughput_is_bounded_by_concurrency(tmp_path: Path) -> None:
    # 4 in flight at 20 ms each: up to 200 img/s, though not 1 / mean latency (50 img/s) as for a single stream
    doc = results.validate(load_test_doc(180.0))
    assert doc["schema"] == results.SCHEMA and results.read(results.write(doc, tmp_path / "serve.json")) == doc
    with pytest.raises(InvalidResultsError, match="exceeds concurrency x batch / mean latency"):
        results.validate(load_test_doc(260.0))


def test_default_path_is_under_bench_results() -> None:
    path = results.default_path("serve")
    assert path.parent == results.RESULTS_DIR and path.name.startswith("serve_") and path.suffix == ".json"


def test_import_accepts_swift_results_and_names_the_device(tmp_path: Path) -> None:
    source = tmp_path / "phone.json"
    source.write_text(json.dumps(swift_doc()))
    copied = import_results(source, tmp_path / "results", device_name="iPhone 15 Pro")
    doc = json.loads(copied.read_text())
    assert copied.parent == tmp_path / "results"
    assert doc["environment"]["machine"] == "iPhone 15 Pro" and doc["environment"]["reported_machine"] == "iPhone16,1"
    jsonschema.validate(doc, SCHEMA)


@pytest.mark.parametrize("content", ["not json {", json.dumps({"schema": "lsnet-bench/1"}), json.dumps([1, 2])])
def test_import_rejects_malformed_files(tmp_path: Path, content: str) -> None:
    source = tmp_path / "bad.json"
    source.write_text(content)
    with pytest.raises(InvalidResultsError):
        import_results(source, tmp_path / "results")
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())


def test_report_merges_files_and_names_sources(tmp_path: Path) -> None:
    cpu = results.write(make_doc({"lsnet_t": 1.0, "other": 1.5}), tmp_path / "cpu.json")
    phone = tmp_path / "phone.json"
    phone.write_text(json.dumps(swift_doc()))
    docs = report.load([cpu, phone])
    text = report.render(docs, command="lsnet bench report x")
    assert "generated by `lsnet bench report x`" in text
    assert str(cpu.as_posix()) in text and "iPhone16,1, iOS 18.1, swift-benchmark" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and "Machine" not in line]
    assert len(table_rows) == 4 + 1
    assert any("iPhone16,1 (iOS 18.1)" in line and "cpu_and_ne" in line for line in table_rows)
    csv_lines = report.csv_text([d for _, d in docs]).splitlines()
    assert csv_lines[0].startswith("machine,target,runtime") and len(csv_lines) == 6


def test_report_prints_peer_ratios_of_the_same_run() -> None:
    doc = make_doc({"ours": 1.0, "peer_a": 2.0, "peer_b": 0.9}, batches=(1,))
    names = {"ours": "lsnet_t", "peer_a": "efficientvit_m4", "peer_b": "mobilenetv3_large_100"}
    for row in doc["rows"]:
        row.update(model=names[row["target"]], runtime="onnxruntime")
    lines = report.peer_ratio_lines(doc)
    assert len(lines) == 2
    assert "efficientvit_m4" in lines[0] and "(target <= 1.00: met)" in lines[0]
    assert "mobilenetv3_large_100" in lines[1] and "target <= 1.25: met" in lines[1]
    doc["rows"][0]["latency_ms"]["p50"] *= 3
    assert "NOT met" in report.peer_ratio_lines(doc)[1]


def test_report_of_no_files_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidResultsError, match="no results files"):
        report.load([tmp_path])


def test_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from lsnet.bench.plots import write_plots

    doc = make_doc({"a": 1.0, "b": 2.0})
    doc["claims"] = [{"claim": "throughput", "model": "lsnet_t", "paper": 14708, "measured": 100.0, "hardware": "cpu"}]
    made = write_plots([doc, copy.deepcopy(doc)], tmp_path / "img")
    assert [p.name for p in made] == ["latency_by_batch.png", "throughput.png", "paper_vs_measured.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in made)


def accuracy_doc() -> dict:
    """An lsnet model and a peer measured with the fake runner, with held-out accuracy on their rows."""
    doc = make_doc({"lsnet_t.onnx": 1.0, "mobilenetv3_large_100.onnx": 0.8})
    for row in doc["rows"]:
        peer = row["target"].startswith("mobilenet")
        row["model"] = "mobilenetv3_large_100" if peer else "lsnet_t"
        row["accuracy"] = {"top1": 0.75 if peer else 0.8, "top5": 0.97, "images": 300, "dataset": "heldout"}
    return doc


def test_accuracy_in_rows_follows_the_schema_and_shows_in_the_table(tmp_path: Path) -> None:
    doc = accuracy_doc()
    jsonschema.validate(results.read(results.write(doc, tmp_path / "r.json")), SCHEMA)
    table = report.markdown_table([doc])
    assert "top-1" in table.splitlines()[0] and "| 80.0% |" in table and "| 75.0% |" in table
    doc["rows"][0]["accuracy"]["top1"] = 80.0  # a percentage instead of a fraction is refused
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_accuracy_vs_latency_is_the_first_picture(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from lsnet.bench.plots import write_plots

    made = write_plots([accuracy_doc()], tmp_path / "img")
    assert [p.name for p in made] == ["accuracy_vs_latency.png", "latency_by_batch.png", "throughput.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in made)


def test_pareto_front_keeps_only_undominated_points() -> None:
    from lsnet.bench.plots import pareto_front

    points = [(1.0, 70.0), (2.0, 80.0), (2.5, 75.0), (3.0, 80.0), (4.0, 85.0), (0.5, 60.0)]
    assert pareto_front(points) == [(0.5, 60.0), (1.0, 70.0), (2.0, 80.0), (4.0, 85.0)]


def test_latency_bars_name_their_run_when_runs_are_mixed() -> None:
    from lsnet.bench.plots import config_label, latency_records

    first, second = make_doc({"a": 1.0}, batches=(1,)), make_doc({"a": 1.0}, batches=(1,))
    first["created"], second["created"] = "2026-11-23T10:00:00Z", "2026-12-01T19:11:42Z"
    one, two = latency_records([first, second])
    assert config_label(one, machines=1, runs=1) == "a (fake)"
    assert config_label(two, machines=1, runs=2) == "a (fake, 2026-12-01 19:11)"
