"""Load tests of ``lsnet serve`` on loopback: workers A/B, overload, slow clients, soak (bounded, results files).

    PYTHONPATH=. python bench/serve_load.py workers --artifact lsnet_t.onnx --clients 16 --rounds 5 --seconds 20 \\
        --config "w1t2=--workers 1 --threads 2" --config "w2t1=--workers 2 --threads 1"
    PYTHONPATH=. python bench/serve_load.py overload --artifact lsnet_t.onnx --clients 64 --seconds 20 --serve-args "--queue-size 8"
    PYTHONPATH=. python bench/serve_load.py slow-clients --artifact lsnet_t.onnx --slow 200 --clients 4 --seconds 20
    PYTHONPATH=. python bench/serve_load.py soak --artifact lsnet_t.onnx --clients 8 --seconds 600 --sample-s 10

``workers`` starts one server per --config and alternates them round by round (A, B, A, B, ...), so the
ratio is taken under the same machine load. Every scenario sends the same JPEG per request from N closed-loop
clients and writes bench/results/serve_<scenario>_<host>_<date>.json (schema lsnet-bench/1) and a .md table.
"""
import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from lsnet.bench.loadtest import Server, closed_loop, environment, test_image


async def trickler(host: str, port: int, interval_s: float, seconds: float) -> float | None:
    """One slowloris connection (a header byte every ``interval_s``); seconds until the server closed it, or None."""
    reader, writer = await asyncio.open_connection(host, port)
    start = time.monotonic()
    writer.write(b"POST /predict HTTP/1.1\r\nHost: lsnet\r\n")
    try:
        while time.monotonic() - start < seconds:
            writer.write(b"X")
            await writer.drain()
            try:
                if not await asyncio.wait_for(reader.read(1024), interval_s):
                    return time.monotonic() - start
            except asyncio.TimeoutError:
                continue
        return None
    except (ConnectionError, OSError):
        return time.monotonic() - start
    finally:
        writer.close()


async def with_slow_clients(url: str, image: bytes, slow: int, clients: int, seconds: float) -> dict[str, Any]:
    """A closed loop of ``clients`` while ``slow`` slowloris connections run; how soon each slow one was cut off."""
    host, port = url.removeprefix("http://").split(":")
    slow_tasks = [asyncio.create_task(trickler(host, int(port), 0.2, seconds)) for _ in range(slow)]
    result = await closed_loop(url, image, clients, seconds)
    cut = await asyncio.gather(*slow_tasks, return_exceptions=True)
    closed = [c for c in cut if isinstance(c, float)]
    result["slow"] = {"connections": slow, "cut_off": len(closed), "cut_after_s_max": max(closed, default=None)}
    return result


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` and all its descendants in MiB (Linux /proc), None elsewhere."""
    def children(p: int) -> list[int]:
        kids = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            text = (task / "children").read_text() if (task / "children").exists() else ""
            kids += [int(k) for k in text.split()]
        return kids

    total, todo = 0.0, [pid]
    try:
        while todo:
            p = todo.pop()
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            todo += children(p)
    except OSError:
        return None if total == 0 else total
    return total


async def soak(url: str, image: bytes, pid: int, clients: int, seconds: float, sample_s: float) -> dict[str, Any]:
    """Closed-loop load for ``seconds``; the server's RSS after every ``sample_s`` slice and whether it levelled off."""
    by_status: dict[str, list[int]] = {}
    samples: list[tuple[float, float | None]] = [(0.0, rss_mb(pid))]
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        part = await closed_loop(url, image, clients, min(sample_s, seconds - (time.perf_counter() - start)))
        for key, values in part["by_status"].items():
            by_status.setdefault(key, []).extend(values)
        samples.append((time.perf_counter() - start, rss_mb(pid)))
    levels = [mb for _, mb in samples if mb is not None]
    half = len(levels) // 2
    growth = {"first_half_mb": levels[half] - levels[0], "second_half_mb": levels[-1] - levels[half]} if half else {}
    return {"by_status": by_status, "elapsed": time.perf_counter() - start, "rss_mb": samples, "growth": growth,
            "levelled_off": bool(growth) and growth["second_half_mb"] <= max(0.25 * growth["first_half_mb"], 5.0)}


def row(label: str, meta: dict[str, Any], clients: int, result: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A results row: latency of answered (200) requests, throughput in answered images/s, every status counted."""
    from lsnet.bench.stats import summarize

    ok = result["by_status"].get("200", [])
    statuses = {k: len(v) for k, v in result["by_status"].items()}
    errors = sum(n for k, n in statuses.items() if k != "200")
    runtime = meta.get("runtime", {})
    return {
        "target": label, "model": meta.get("model", {}).get("variant"), "runtime": f"lsnet-serve/{runtime.get('name', '?')}",
        "device": runtime.get("device", "cpu"), "precision": runtime.get("precision", "fp32"), "batch": 1,
        "img_size": meta.get("model", {}).get("img_size"), "concurrency": clients, "iterations": len(ok),
        "latency_ms": summarize(ok, batch=1).latency_dict(), "throughput_ips": len(ok) / result["elapsed"],
        "status": "ok" if errors == 0 else f"errors: {statuses}",
        "metadata": {"statuses": statuses, "elapsed_s": result["elapsed"], **extra},
    }


def workers_ab(artifact: str, configs: list[tuple[str, str]], clients: int, rounds: int, seconds: float, image: bytes) -> list[dict[str, Any]]:
    """Interleaved rounds of each serve configuration; one row per configuration with every round's throughput."""
    servers = [(label, args, Server(artifact, args.split())) for label, args in configs]
    try:
        metas = {}
        for label, _, server in servers:
            server.wait_ready(300)
            metas[label] = httpx.get(f"{server.url}/metadata", timeout=30).json()
            asyncio.run(closed_loop(server.url, image, clients, 3.0))  # warm-up
        pooled: dict[str, dict[str, Any]] = {label: {"by_status": {}, "elapsed": 0.0, "rounds": []} for label, _ in configs}
        for r in range(rounds):
            for label, _, server in servers:
                result = asyncio.run(closed_loop(server.url, image, clients, seconds))
                ok = len(result["by_status"].get("200", []))
                pooled[label]["rounds"].append(ok / result["elapsed"])
                pooled[label]["elapsed"] += result["elapsed"]
                for key, values in result["by_status"].items():
                    pooled[label]["by_status"].setdefault(key, []).extend(values)
                print(f"round {r + 1}/{rounds} {label}: {ok / result['elapsed']:.1f} img/s", flush=True)
    finally:
        for _, _, server in servers:
            server.stop()
    first = statistics.median(pooled[configs[0][0]]["rounds"])
    rows = []
    for label, args in configs:
        median = statistics.median(pooled[label]["rounds"])
        r = row(f"{Path(artifact).name} [{label}]", metas[label], clients, pooled[label],
                {"serve_args": args, "round_ips": pooled[label]["rounds"], "median_round_ips": median,
                 "serving": metas[label].get("serving", {})})
        r["ratio_to_first"] = median / first
        rows.append(r)
    return rows


def write(rows: list[dict[str, Any]], scenario: str, settings: dict[str, Any], out: Path | None) -> Path:
    from lsnet.bench import results
    from lsnet.bench.commands import write_text

    env = environment()
    env["source"] = "bench/serve_load.py"
    doc = results.validate(results.document(rows, env, {"scenario": scenario, **settings}), scenario)
    path = out or results.default_path(f"serve_{scenario.replace('-', '_')}")
    results.write(doc, path)
    lines = ["| target | clients | answered | statuses | img/s | p50 ms | p99 ms | ratio |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['concurrency']} | {r['iterations']} | {r['metadata']['statuses']} | {r['throughput_ips']:.1f} | "
                     f"{r['latency_ms']['p50']:.2f} | {r['latency_ms']['p99']:.2f} | {r.get('ratio_to_first', 1.0):.2f} |")
    write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {path}")
    return path


def one_server(args: argparse.Namespace, image: bytes) -> list[dict[str, Any]]:
    """overload / slow-clients / soak against one ``lsnet serve`` subprocess."""
    server = Server(args.artifact, args.serve_args.split())
    try:
        server.wait_ready(300)
        meta = httpx.get(f"{server.url}/metadata", timeout=30).json()
        asyncio.run(closed_loop(server.url, image, 2, 2.0))  # warm-up
        label = Path(args.artifact).name
        if args.scenario == "overload":
            result = asyncio.run(closed_loop(server.url, image, args.clients, args.seconds))
            rejected = result["by_status"].get("503", [])
            extra = {"serve_args": args.serve_args, "p99_503_ms": sorted(rejected)[int(0.99 * (len(rejected) - 1))] / 1e6 if rejected else None}
            return [row(label, meta, args.clients, result, extra)]
        if args.scenario == "slow-clients":
            base = asyncio.run(closed_loop(server.url, image, args.clients, args.seconds))
            slow = asyncio.run(with_slow_clients(server.url, image, args.slow, args.clients, args.seconds))
            first = row(f"{label} [no slow clients]", meta, args.clients, base, {"serve_args": args.serve_args})
            second = row(f"{label} [{args.slow} slow clients]", meta, args.clients, slow, {"serve_args": args.serve_args, "slow": slow["slow"]})
            second["ratio_to_first"] = second["throughput_ips"] / first["throughput_ips"]
            return [first, second]
        result = asyncio.run(soak(server.url, image, server.proc.pid, args.clients, args.seconds, args.sample_s))
        r = row(label, meta, args.clients, result, {"serve_args": args.serve_args, "rss_mb": result["rss_mb"],
                                                    "growth": result["growth"], "levelled_off": result["levelled_off"]})
        r["peak_memory_mb"] = max((mb for _, mb in result["rss_mb"] if mb is not None), default=None)
        return [r]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["workers", "overload", "slow-clients", "soak"])
    parser.add_argument("--artifact", required=True, help="what lsnet serve serves (.onnx, model folder, model name)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="per round / level (soak: total)")
    parser.add_argument("--rounds", type=int, default=5, help="workers: interleaved rounds per configuration")
    parser.add_argument("--config", action="append", default=[], help='workers: "LABEL=lsnet serve options" (2 or more)')
    parser.add_argument("--serve-args", default="--max-batch 16 --max-wait-ms 5", help="lsnet serve options (not workers)")
    parser.add_argument("--slow", type=int, default=100, help="slow-clients: slowloris connections")
    parser.add_argument("--sample-s", type=float, default=10.0, help="soak: RSS sampling interval")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    image = test_image()
    settings = {k: v for k, v in vars(args).items() if k not in ("out",)}
    if args.scenario == "workers":
        configs = [tuple(c.split("=", 1)) for c in args.config]
        if len(configs) < 2 or any(len(c) != 2 for c in configs):
            raise SystemExit('workers needs two or more --config "LABEL=lsnet serve options"')
        rows = workers_ab(args.artifact, configs, args.clients, args.rounds, args.seconds, image)
    else:
        rows = one_server(args, image)
    write(rows, args.scenario, {**settings, "protocol": "closed-loop HTTP load on loopback, one JPEG per request"}, args.out)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
