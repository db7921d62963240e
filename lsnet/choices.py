"""Name lookup with close-match hints, shared by models, SKA formulations and formats."""
import difflib
from collections.abc import Iterable

from lsnet.errors import UnknownOptionError


def suggest(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean X?' hint for ``name``, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def pick(kind: str, name: str, choices: Iterable[str], error: type[Exception] = UnknownOptionError) -> str:
    """Return ``name`` if it is one of ``choices``, else raise ``error`` listing them with a hint."""
    options = list(choices)
    if name in options:
        return name
    raise error(f"unknown {kind} '{name}'.{suggest(name, options)} Choose one of: {', '.join(options)}.")
