"""Load test of ``lsnet serve`` on loopback: FP32 vs INT8 ONNX, throughput and latency at several concurrencies.

    PYTHONPATH=. python bench/loadtest.py --model lsnet_t --concurrency 1,4,16 --requests 400 --max-seconds 60

Each artifact is served by a real ``lsnet serve`` subprocess on 127.0.0.1; each concurrency level sends at most
``--requests`` single-image requests (after a warm-up) and stops after ``--max-seconds``. Writes
bench/results/serve_<host>_<date>.json (schema lsnet-bench/1) and a markdown table beside it.
"""
import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_image() -> bytes:
    """One structured 320x240 JPEG (the service decodes and preprocesses it per request)."""
    import io

    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:240, 0:320]
    img = np.stack([xx * 255 // 320, yy * 255 // 240, ((xx // 20 + yy // 20) % 2) * 200], -1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


class Server:
    """``lsnet serve ARTIFACT`` in a subprocess on a free loopback port; stopped with SIGINT."""

    def __init__(self, artifact: Path, serve_args: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "lsnet.cli", "serve", str(artifact), "--host", "127.0.0.1", "--port", str(self.port),
               "--log-level", "warning", *serve_args]
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lsnet serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("lsnet serve did not become healthy in time")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


async def closed_loop(url: str, image: bytes, clients: int, seconds: float, requests: int = 10**9) -> dict[str, Any]:
    """``clients`` concurrent clients posting ``image`` until ``requests`` or ``seconds`` run out; latencies by status."""
    by_status: dict[str, list[int]] = {}
    budget = iter(range(requests))
    deadline = time.monotonic() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in budget:
            if time.monotonic() > deadline:
                return
            start = time.perf_counter_ns()
            try:
                r = await client.post(f"{url}/predict", content=image, headers={"content-type": "image/jpeg"})
                key = str(r.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            by_status.setdefault(key, []).append(time.perf_counter_ns() - start)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return {"by_status": by_status, "elapsed": elapsed}


async def run_level(url: str, image: bytes, concurrency: int, requests: int, max_seconds: float) -> dict[str, Any]:
    """``concurrency`` clients share a budget of ``requests`` (and a deadline); latency (ns) of every answered request."""
    result = await closed_loop(url, image, concurrency, max_seconds, requests)
    by_status = result["by_status"]
    return {"latencies": by_status.get("200", []), "statuses": {k: len(v) for k, v in by_status.items()},
            "elapsed": result["elapsed"]}


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| artifact | precision | concurrency | requests | errors | throughput (img/s) | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['precision']} | {r['concurrency']} | {r['iterations']} | {r['errors']} | "
                     f"{r['throughput_ips']:.1f} | {r['latency_ms']['p50']:.2f} | {r['latency_ms']['p99']:.2f} |")
    return "\n".join(lines) + "\n"


def level_row(artifact: Path, meta: dict[str, Any], model: str, level: int, result: dict[str, Any], serve_args: str) -> dict[str, Any]:
    """The results row of one concurrency level (the caller keeps only levels with answered requests)."""
    from lsnet.bench.stats import summarize

    stats = summarize(result["latencies"], batch=1)
    ok = stats.iterations
    errors = sum(n for k, n in result["statuses"].items() if k != "200")
    return {
        "target": artifact.name, "model": meta.get("variant", model), "runtime": "lsnet-serve/onnxruntime",
        "device": "cpu", "precision": meta.get("precision", "fp32"), "ska": meta.get("ska"), "batch": 1,
        "img_size": meta.get("img_size"), "concurrency": level, "iterations": ok, "errors": errors,
        "statuses": result["statuses"], "latency_ms": stats.latency_dict(),
        "throughput_ips": ok / result["elapsed"], "status": "ok" if errors == 0 else f"error: {result['statuses']}",
        "metadata": {"serve_args": serve_args, "elapsed_s": result["elapsed"]},
    }


def environment() -> dict[str, Any]:
    """The harness's environment record plus the HTTP stack's versions."""
    from lsnet.bench.environment import describe
    from lsnet.export.metadata import package_version

    env = describe("cpu")
    env["versions"].update({name: package_version(name) for name in ("uvicorn", "starlette", "httpx")})
    env["source"] = "bench/loadtest.py"
    return env


def main() -> None:
    from lsnet.bench import results
    from lsnet.bench.artifacts import add_export_options, fp32_and_int8
    from lsnet.bench.commands import write_text
    from lsnet.commands.options import parse_int_list
    from lsnet.errors import LsnetError
    from lsnet.runtimes.artifact_metadata import read_sidecar

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_export_options(parser)
    parser.add_argument("--artifacts", type=Path, nargs="*", default=None, help="serve these instead of exporting FP32+INT8")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level (after warm-up)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap per concurrency level")
    parser.add_argument("--serve-args", default="--max-batch 16 --max-wait-ms 5 --queue-size 64", help="extra lsnet serve options")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    levels = parse_int_list(args.concurrency, "--concurrency")

    with tempfile.TemporaryDirectory() as tmp:
        artifacts = args.artifacts or list(fp32_and_int8(args.model, args.weights, Path(tmp), args.calib, args.img_size).values())
        image, rows, skipped = test_image(), [], []
        for artifact in map(Path, artifacts):
            meta = read_sidecar(artifact)
            server = Server(artifact, args.serve_args.split())
            try:
                server.wait_ready()
                asyncio.run(run_level(server.url, image, 4, args.warmup, args.max_seconds))
                for level in levels:
                    result = asyncio.run(run_level(server.url, image, level, args.requests, args.max_seconds))
                    print(f"{artifact.name} c={level}: {len(result['latencies'])} ok, statuses {result['statuses']}, "
                          f"{len(result['latencies']) / result['elapsed']:.1f} img/s", flush=True)
                    if result["latencies"]:
                        rows.append(level_row(artifact, meta, args.model, level, result, args.serve_args))
                    else:
                        skipped.append({"label": f"{artifact.name} c={level}", "batch": 1, "reason": f"no request answered: {result['statuses']}"})
            finally:
                server.stop()
    if not rows:
        raise LsnetError(f"no concurrency level got an answer ({skipped[0]['reason']}); check --serve-args and the artifacts.")
    doc = results.document(rows, environment(), {
        "protocol": "closed-loop HTTP load on loopback: N concurrent clients, one image per request, "
                    f"{args.warmup} warm-up requests, at most {args.requests} requests or {args.max_seconds} s per level",
        "warmup_iters": args.warmup, "timer": "perf_counter_ns", "skipped": skipped,
    })
    out = args.out or results.default_path("serve")
    results.write(results.validate(doc, str(out)), out)
    write_text(out.with_suffix(".md"), markdown(rows))
    print(markdown(rows))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
