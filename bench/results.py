"""Results files (schema ``lsnet-bench/1``): build, validate, write and read.

The JSON schema in ``bench/schemas/results.schema.json`` is the contract; ``validate`` adds the
semantic checks a schema cannot express (p50 >= min, throughput = batch / mean latency, ...).
"""
import json
import socket
import time
from pathlib import Path
from typing import Any

from lsnet.bench.harness import Measurement, Settings, Skipped
from lsnet.errors import LsnetError

SCHEMA = "lsnet-bench/1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "results.schema.json"
RESULTS_DIR = Path(__file__).parent / "results"
THROUGHPUT_TOLERANCE = 0.02  # relative disagreement allowed between throughput_ips and batch / mean


class InvalidResultsError(LsnetError, ValueError):
    """A results file that does not follow the lsnet-bench/1 schema or is not self-consistent."""


def row(m: Measurement, img_size: list[int] | None = None) -> dict[str, Any]:
    """One results row for a measurement."""
    info = m.candidate.runner.info
    extra = m.candidate.extra
    metadata = dict(extra.get("metadata", {}))
    if m.requested_batch != m.batch:
        metadata["requested_batch"] = m.requested_batch
    accuracy = {"accuracy": extra["accuracy"]} if "accuracy" in extra else {}
    return {
        "target": m.candidate.label,
        "model": extra.get("model"),
        "runtime": info.runtime,
        "device": info.device,
        "precision": info.precision,
        "ska": extra.get("ska"),
        "batch": m.batch,
        "img_size": img_size or list(m.candidate.runner.input_spec.shape[2:]),
        "latency_ms": m.stats.latency_dict(),
        "throughput_ips": m.stats.throughput_ips,
        "iterations": m.stats.iterations,
        "peak_memory_mb": m.peak_memory_mb,
        "ratio_to_first": m.ratio_to_first,
        "status": "ok" if m.requested_batch == m.batch else f"ok (out of memory at batch {m.requested_batch})",
        "metadata": metadata,
        **accuracy,
    }


def build(
    measurements: list[Measurement],
    environment: dict[str, Any],
    settings: Settings,
    *,
    protocol: str = "lsnet",
    skipped: list[Skipped] | None = None,
    extra_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete results document."""
    return document(
        [row(m) for m in measurements],
        environment,
        {
            "warmup_s": settings.warmup_s,
            "warmup_iters": settings.warmup_iters,
            "min_time_s": settings.min_time_s,
            "rounds": settings.rounds,
            "protocol": protocol,
            "skipped": [s.__dict__ for s in skipped or []],
            **(extra_settings or {}),
        },
    )


def document(rows: list[dict[str, Any]], environment: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A results document from ready rows (for measurements the harness does not make, e.g. HTTP load tests)."""
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": environment,
        "settings": settings,
        "rows": rows,
    }


def default_path(prefix: str) -> Path:
    """``bench/results/<prefix>_<host>_<date>.json``: where benchmark scripts write when given no --out."""
    return RESULTS_DIR / f"{prefix}_{socket.gethostname()}_{time.strftime('%Y-%m-%d')}.json"


def semantic_problems(doc: dict[str, Any]) -> list[str]:
    """Inconsistencies a JSON schema cannot catch."""
    problems = []
    env = doc.get("environment", {})
    for key in ("machine", "os"):
        if not str(env.get(key) or "").strip():
            problems.append(f"environment.{key} is empty")
    for i, r in enumerate(doc.get("rows", [])):
        where = f"rows[{i}] ({r.get('target')}, batch {r.get('batch')})"
        lat = r["latency_ms"]
        order = [lat["min"], lat["p50"], *(lat[k] for k in ("p90", "p99") if k in lat)]
        if any(b < a * (1 - 1e-9) for a, b in zip(order, order[1:])):
            problems.append(f"{where}: latencies must satisfy min <= p50 <= p90 <= p99")
        if lat["mean"] < lat["min"] * (1 - 1e-9):
            problems.append(f"{where}: mean latency is below the minimum")
        if lat["mean"] > 0 and r["throughput_ips"] > 0:
            expected = r["batch"] * 1000.0 / lat["mean"]
            if "concurrency" in r:  # overlapping requests: at most `concurrency` calls are in flight at once
                bound = r["concurrency"] * expected
                if r["throughput_ips"] > bound * (1 + THROUGHPUT_TOLERANCE):
                    problems.append(f"{where}: throughput_ips {r['throughput_ips']:.4g} exceeds concurrency x batch / mean latency ({bound:.4g})")
            elif abs(r["throughput_ips"] - expected) > THROUGHPUT_TOLERANCE * expected:
                problems.append(f"{where}: throughput_ips {r['throughput_ips']:.4g} is not batch / mean latency ({expected:.4g})")
    return problems


def validate(doc: Any, source: str = "results") -> dict[str, Any]:
    """Check ``doc`` against the JSON schema and the semantic rules; raise one clear line if it fails."""
    from lsnet.deps import require

    jsonschema = require("jsonschema", "bench", "validating benchmark results")
    schema = json.loads(SCHEMA_PATH.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "top level"
        raise InvalidResultsError(
            f"{source} is not a valid {SCHEMA} results file: {where}: {first.message}"
            f"{f' (and {len(errors) - 1} more problem(s))' if len(errors) > 1 else ''}; produce it with lsnet bench"
            " or the Swift benchmark, which follow bench/schemas/results.schema.json."
        )
    problems = semantic_problems(doc)
    if problems:
        raise InvalidResultsError(
            f"{source} is inconsistent: {problems[0]}{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''};"
            " fix the file or measure again."
        )
    return doc


def read(path: Path) -> dict[str, Any]:
    """Load and validate a results file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidResultsError(f"results file {path} does not exist: check the path.")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidResultsError(f"{path} is not JSON ({exc}); pass a results file written by lsnet bench.") from None
    return validate(doc, str(path))


def write(doc: dict[str, Any], path: Path) -> Path:
    """Write ``doc`` atomically after the semantic checks (the schema itself is checked by tests and on import)."""
    from lsnet.export.artifact import write_json_atomic

    problems = semantic_problems(doc)
    if problems:
        raise InvalidResultsError(f"refusing to write inconsistent results: {problems[0]}.")
    write_json_atomic(Path(path), doc)
    return Path(path)
