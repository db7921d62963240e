"""Write artifacts without destroying what is there: build under a temporary name beside the target, then rename.

Temporary names are ``.lsnet-tmp-<pid>-<hex>-<target name>`` (and ``.lsnet-old-...`` for a directory artifact
moved aside while its replacement is renamed in). A run that was killed leaves them behind; the next run that
writes into the same folder removes those whose process is gone, so their size never accumulates.
"""
import errno
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lsnet.errors import OutputPathError

TEMP_PREFIX = ".lsnet-tmp-"
OLD_PREFIX = ".lsnet-old-"
_TEMP_NAME = re.compile(r"^\.lsnet-(tmp|old)-(\d+)-[0-9a-f]{8}-(.+)$")


def temp_beside(target: Path, prefix: str = TEMP_PREFIX) -> Path:
    """A fresh temporary name in ``target``'s folder that keeps its suffix (runners pick by suffix)."""
    return target.parent / f"{prefix}{os.getpid()}-{uuid.uuid4().hex[:8]}-{target.name}"


def remove_tree(path: Path) -> None:
    """Delete a file or directory tree that this module created under a temporary name."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (a permission error means it does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files that killed lsnet runs left in ``folder``; return what was removed.

    An old directory artifact moved aside by a run killed before its replacement arrived is put back instead.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or process_alive(int(match[2])):
            continue
        original = entry.with_name(match[3])
        if match[1] == "old" and not (original.exists() or original.is_symlink()):
            os.replace(entry, original)
            continue
        remove_tree(entry)
        removed.append(entry)
    return removed


def check_writable(target: Path) -> list[Path]:
    """Create the folder of ``target`` if needed and check a file can be written there; one clear line if not.

    Returns the folders it created (outermost first), so that a failed export can remove them again.
    """
    folder = Path(target).parent
    created = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    probe = temp_beside(Path(target))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        remove_empty(created)
        raise OutputPathError(f"cannot write {target}: {exc.strerror or exc} in {folder}. Choose another -o path.") from exc
    return created


def remove_empty(folders: list[Path]) -> None:
    """Remove folders (innermost first) that are still empty; never anything with content."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def publish(temp: Path, target: Path) -> None:
    """Move ``temp`` to ``target`` by rename. A file replaces a file atomically (never deleted first); a
    directory artifact replaces a directory by moving the old one aside, renaming the new one in, then
    deleting the old one (put back if the rename in fails)."""
    if target.is_dir() and not target.is_symlink():
        if not temp.is_dir():
            raise OutputPathError(f"{target} is a folder; it is left alone: choose another -o path.")
        old = temp_beside(target, OLD_PREFIX)
        os.replace(target, old)
        try:
            os.replace(temp, target)
        except BaseException:
            os.replace(old, target)
            raise
        remove_tree(old)
    else:
        os.replace(temp, target)


@contextmanager
def staged(target: Path, publisher: Callable[[Path, Path], None] = publish) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` with the same suffix; ``publisher`` moves it to ``target`` on
    success. On any failure (Ctrl-C included) the temporary path and folders created for it are removed."""
    target = Path(target)
    created = check_writable(target)
    clean_stale_temps(target.parent)
    temp = temp_beside(target)
    try:
        yield temp
        publisher(temp, target)
    except BaseException as exc:
        remove_tree(temp)
        remove_empty(created)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise OutputPathError(
                f"no space left on the device of {target.parent.resolve()} while writing {target.name}; nothing was"
                " written: free some space or choose another -o path."
            ) from None
        raise


@contextmanager
def staged_files(target: Path, companions: tuple[str, ...] = (),
                 publisher: Callable[[Path, Path], None] = publish) -> Iterator[Path]:
    """``staged`` for an artifact made of several files sharing one stem (OpenVINO's ``.xml`` + ``.bin``):
    the companions written beside the temporary path are renamed just before the artifact, or removed on failure."""
    target = Path(target)
    with staged(target, publisher) as temp:
        try:
            yield temp
        except BaseException:
            for suffix in companions:
                remove_tree(temp.with_suffix(suffix))
            raise
        for suffix in companions:
            os.replace(temp.with_suffix(suffix), target.with_suffix(suffix))


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file and a rename."""
    with staged(path) as temp:
        temp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
