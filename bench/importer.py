"""``lsnet bench import``: accept results measured elsewhere (iPhone/Mac Swift benchmark, other machines, and
Android: LiteRT ``benchmark_model`` logs and ExecuTorch benchmark-app JSON, see bench/android.py)."""
import re
from pathlib import Path

from lsnet.bench import results


def safe_name(text: str) -> str:
    """A file-name friendly version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "device"


def import_results(path: Path, out_dir: Path, device_name: str | None = None) -> Path:
    """Validate ``path`` and copy it into ``out_dir`` (named after machine and date); returns the new file.

    ``device_name`` replaces ``environment.machine`` (e.g. 'iPhone 15 Pro' when the file says 'iPhone16,1').
    """
    from lsnet.bench.android import parse_android

    doc = parse_android(Path(path), device_name) if Path(path).is_file() else None
    if doc is None:
        doc = results.read(Path(path))
    env = doc["environment"]
    if device_name and env["machine"] != device_name:
        env.setdefault("reported_machine", env["machine"])
        env["machine"] = device_name
    env.setdefault("source", "imported")
    env["imported_from"] = Path(path).name
    stamp = doc["created"][:10]
    target = Path(out_dir) / f"{safe_name(env.get('source', 'imported'))}_{safe_name(env['machine'])}_{stamp}.json"
    return results.write(results.validate(doc, str(path)), target)
