"""Write artifacts atomically: build under a temporary name beside the target, then rename."""
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lsnet.errors import LsnetError


def remove_path(path: Path) -> None:
    """Delete a file or a directory tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def check_writable(target: Path) -> None:
    """Raise one clear line when the folder of ``target`` cannot be created or a file written in it."""
    import tempfile

    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".lsnet-write-test-"):
            pass
    except OSError as exc:
        raise LsnetError(
            f"cannot write {target}: {exc.strerror or exc} in {folder}. Choose another -o path."
        ) from exc


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` with the same suffix; it replaces ``target`` only on success."""
    target = Path(target)
    check_writable(target)
    temp = target.with_name(f".{target.stem}.partial-{uuid.uuid4().hex[:8]}{target.suffix}")
    try:
        yield temp
    except BaseException:
        remove_path(temp)
        raise
    remove_path(target)
    os.replace(temp, target)


@contextmanager
def staged_files(target: Path, companions: tuple[str, ...] = ()) -> Iterator[Path]:
    """``staged`` for an artifact made of several files sharing one stem (OpenVINO's ``.xml`` + ``.bin``):
    the companions written beside the temporary path are renamed just before the artifact, or removed on failure."""
    target = Path(target)
    with staged(target) as temp:
        try:
            yield temp
        except BaseException:
            for suffix in companions:
                remove_path(temp.with_suffix(suffix))
            raise
        for suffix in companions:
            os.replace(temp.with_suffix(suffix), target.with_suffix(suffix))


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file and a rename."""
    with staged(path) as temp:
        temp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
