"""bench/int8_vs_fp32.py: exports FP32 + INT8 and times them through the lsnet bench harness (tiny settings)."""
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("jsonschema")


def test_int8_vs_fp32_writes_a_schema_valid_harness_results_file(tmp_path: Path, capsys) -> None:
    from lsnet.bench import int8_vs_fp32, results

    out = int8_vs_fp32.main([
        "--model", "lsnet_t", "--calib", "8", "--batches", "1,2", "--warmup", "0", "--min-time", "0.05", "--rounds", "2",
        "--artifacts-dir", str(tmp_path / "artifacts"), "--out", str(tmp_path / "r.json"), "--quiet",
    ])
    doc = results.read(out)  # JSON schema + semantic checks
    assert out.with_suffix(".md").read_text().startswith("| Machine | Target |")
    assert "lsnet_t_224_int8.onnx" in capsys.readouterr().out
    rows = {(r["target"], r["batch"]): r for r in doc["rows"]}
    assert set(rows) == {(name, b) for name in ("lsnet_t_224.onnx", "lsnet_t_224_int8.onnx") for b in (1, 2)}
    for b in (1, 2):
        fp32, int8 = rows["lsnet_t_224.onnx", b], rows["lsnet_t_224_int8.onnx", b]
        assert (fp32["precision"], int8["precision"]) == ("fp32", "int8")
        assert fp32["ratio_to_first"] == 1.0
        assert int8["ratio_to_first"] == pytest.approx(int8["latency_ms"]["p50"] / fp32["latency_ms"]["p50"])
        assert int8["metadata"]["int8_over_fp32"] == pytest.approx(int8["ratio_to_first"], abs=1e-4)
        assert int8["metadata"]["int8"]["calibration"]["calibration_images"] == 8
        assert all(r["runtime"] == "onnxruntime" and r["iterations"] >= 2 for r in (fp32, int8))
    assert doc["settings"]["protocol"] == "lsnet" and doc["settings"]["rounds"] == 2 and doc["settings"]["batches"] == [1, 2]
    assert doc["environment"]["source"] == "bench/int8_vs_fp32.py"
    assert sorted(p.name for p in (tmp_path / "artifacts").glob("*.onnx")) == ["lsnet_t_224.onnx", "lsnet_t_224_int8.onnx"]


def test_int8_vs_fp32_bad_batches_fail_before_exporting(tmp_path: Path) -> None:
    from lsnet.bench import int8_vs_fp32
    from lsnet.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="--batches '0'"):
        int8_vs_fp32.main(["--batches", "0", "--artifacts-dir", str(tmp_path), "--out", str(tmp_path / "r.json")])
    assert not any(tmp_path.iterdir())


def test_int8_vs_fp32_bad_peer_fails_before_exporting(tmp_path: Path) -> None:
    from lsnet.bench import int8_vs_fp32
    from lsnet.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="--peer-onnx .* is not an ONNX file"):
        int8_vs_fp32.main(["--peer-onnx", str(tmp_path / "missing.onnx"), "--artifacts-dir", str(tmp_path / "a"), "--out", str(tmp_path / "r.json")])
    assert not any(tmp_path.iterdir())


def test_int8_vs_fp32_litert_takes_batch_1_only_and_fails_before_exporting(tmp_path: Path) -> None:
    from lsnet.bench import int8_vs_fp32
    from lsnet.errors import UnknownOptionError

    with pytest.raises(UnknownOptionError, match="--format litert exports a fixed batch of 1: pass --batches 1"):
        int8_vs_fp32.main(["--format", "litert", "--batches", "1,8", "--artifacts-dir", str(tmp_path / "a"), "--out", str(tmp_path / "r.json")])
    assert not any(tmp_path.iterdir())
