"""Where ``-o`` puts an artifact. An existing folder is never replaced unless it is an artifact of the same format."""
from pathlib import Path

from lsnet.errors import OutputPathError
from lsnet.runtimes.artifact_metadata import read_sidecar
from lsnet.export.formats import Format


def default_name(name: str, fmt: Format, precision: str) -> str:
    """``<name>[_fp16|_int8][<name tag>]<suffix>``."""
    tag = "" if precision == "fp32" else f"_{precision}"
    return f"{name}{tag}{fmt.name_tag}{fmt.suffix}"


def is_artifact_of(path: Path, fmt: Format) -> bool:
    """Whether ``path`` was written by lsnet as a ``fmt`` artifact (its sidecar says so)."""
    try:
        return read_sidecar(path).get("format") == fmt.name
    except (OSError, ValueError):
        return False


def place_output(requested: Path | None, name: str, fmt: Format, precision: str) -> Path:
    """The artifact path for ``-o requested``.

    - nothing given: ``<default name>`` in the current folder;
    - an existing folder (``.``, ``..``, ``exports/``): ``FOLDER/<default name>``, unless it is itself an
      artifact of this directory format (an ``.mlpackage`` lsnet wrote), which is replaced; an existing folder
      with the format's suffix that lsnet did not write is refused;
    - a directory format given a name without its suffix: the suffix is appended;
    - anything else: that path (an existing file there is replaced atomically).
    """
    default = default_name(name, fmt, precision)
    if requested is None:
        return Path(default)
    path = Path(requested)
    if fmt.is_directory and path.suffix.lower() != fmt.suffix and not path.is_dir():
        path = path.with_name(path.name + fmt.suffix)
    if path.is_dir() and not (fmt.is_directory and path.suffix.lower() == fmt.suffix):
        path = path / default
    if path.is_dir() and not (fmt.is_directory and is_artifact_of(path, fmt)):
        raise OutputPathError(
            f"{path} is a folder that is not a {fmt.name} artifact written by lsnet; it is left alone: remove it or"
            " choose another -o path."
        )
    if fmt.is_directory and path.exists() and not path.is_dir():
        raise OutputPathError(f"{path} is a file, and a {fmt.name} export is a folder: choose another -o path.")
    return path
