"""The baseline-vs-default ONNX Runtime benchmark script writes a valid ``lsnet-bench/1`` file (tiny settings)."""
import json
import os
import subprocess
import sys

import pytest

from cli_helpers import REPO

pytest.importorskip("onnxruntime")
jsonschema = pytest.importorskip("jsonschema")


@pytest.mark.slow
def test_smoke_run_writes_schema_valid_results(tmp_path):
    out = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # a subprocess: the harness installs a process-wide ORT thread pool that other tests must not inherit
    proc = subprocess.run(
        [sys.executable, "-m", "lsnet.bench.onnx_baseline_vs_default", "--rounds", "1", "--warmup", "0", "--min-time", "0.2", "--quiet", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    jsonschema.validate(results, json.loads((REPO / "bench" / "schemas" / "results.schema.json").read_text()))
    baseline, default = results["rows"]
    assert baseline["ratio_to_first"] == 1.0 and baseline["ska"] == "unfold" and baseline["metadata"]["baseline"]
    assert default["ska"] == "conv_im2col" and default["iterations"] >= 1 and default["ratio_to_first"] > 0


def test_rewrite_ablations_drop_each_rewrite_exactly_once():
    from lsnet.bench.onnx_baseline_vs_default import rewrite_ablations
    from lsnet.export.onnx_rewrites import REWRITES, parse_rewrites

    ablations = rewrite_ablations()
    assert ablations.pop("rewrites_none") == "none"
    assert len(ablations) == len(REWRITES)
    for name in REWRITES:
        kept = parse_rewrites(ablations[f"without_{name.replace('-', '_')}"])
        assert sorted(kept) == sorted(set(REWRITES) - {name})
