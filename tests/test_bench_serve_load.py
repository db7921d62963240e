"""bench/serve_load.py scenarios, smoke-run tiny against an in-process server (and once through the real CLI)."""
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from serve_support import SlowRunner, TinyRunner, running_server, tiny_metadata

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[1]
META = {"model": {"variant": "tiny", "img_size": [32, 32]}, "runtime": {"name": "tiny", "device": "cpu", "precision": "fp32"}}


def app(runner=None, **settings):
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import ServeSettings

    return create_app(runner or TinyRunner(), tiny_metadata(), ServeSettings(**settings))


def valid(rows, scenario, tmp_path):
    from lsnet.bench import results, serve_load

    path = serve_load.write(rows, scenario, {"scenario": scenario}, tmp_path / f"{scenario}.json")
    return results.read(path)["rows"]


def test_overload_counts_503s_apart_and_rows_are_schema_valid(tmp_path) -> None:
    from lsnet.bench import loadtest, serve_load

    slow = SlowRunner(TinyRunner(), delay_s=0.05)
    with running_server(app(slow, max_batch=2, queue_size=2)) as (url, _):
        result = asyncio.run(loadtest.closed_loop(url, loadtest.test_image(), clients=12, seconds=1.5))
    statuses = {k: len(v) for k, v in result["by_status"].items()}
    assert statuses.get("200", 0) > 0 and statuses.get("503", 0) > 0 and set(statuses) <= {"200", "503"}
    (row,) = valid([serve_load.row("tiny", META, 12, result, {})], "overload", tmp_path)
    assert row["metadata"]["statuses"] == statuses and row["iterations"] == statuses["200"]


def test_slow_clients_are_cut_off_while_normal_clients_are_served(tmp_path) -> None:
    from lsnet.bench import loadtest, serve_load

    with running_server(app(read_timeout_s=0.5)) as (url, _):
        result = asyncio.run(serve_load.with_slow_clients(url, loadtest.test_image(), slow=10, clients=2, seconds=2.0))
    assert result["slow"]["cut_off"] == 10 and result["slow"]["cut_after_s_max"] < 1.8
    assert len(result["by_status"]["200"]) > 0 and set(result["by_status"]) == {"200"}
    valid([serve_load.row("tiny", META, 2, result, {"slow": result["slow"]})], "slow-clients", tmp_path)


def test_soak_samples_the_server_memory(tmp_path) -> None:
    from lsnet.bench import loadtest, serve_load

    with running_server(app()) as (url, _):
        result = asyncio.run(serve_load.soak(url, loadtest.test_image(), os.getpid(), clients=2, seconds=1.2, sample_s=0.3))
    assert len(result["rss_mb"]) >= 4 and all(mb and mb > 10 for _, mb in result["rss_mb"])
    assert set(result["growth"]) == {"first_half_mb", "second_half_mb"} and isinstance(result["levelled_off"], bool)
    valid([serve_load.row("tiny", META, 2, result, {"rss_mb": result["rss_mb"]})], "soak", tmp_path)


@pytest.mark.slow
def test_workers_ab_through_the_real_cli(tmp_path) -> None:
    out = tmp_path / "workers.json"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "bench/serve_load.py", "workers", "--artifact", "lsnet_t", "--clients", "2", "--rounds", "2",
         "--seconds", "1", "--config", "w1=--workers 1 --img-size 64", "--config", "w2=--workers 2 --img-size 64", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from lsnet.bench import results

    rows = results.read(out)["rows"]
    assert [r["metadata"]["serving"]["workers"] for r in rows] == [1, 2]
    assert rows[0]["ratio_to_first"] == 1.0 and len(rows[1]["metadata"]["round_ips"]) == 2
