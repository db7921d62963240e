"""Native libraries that print to the process's stdout (MNN prints its CPU features and precision mode there):
``native_output_captured`` routes file descriptors 1 and 2 to a temporary file for the duration, so a CLI's
JSON output stays clean, and gives the captured text back for error messages. ``chatter_to_debug`` does the same
around third-party converters and loaders (litert-torch, ExecuTorch, TFLite) and sends what they printed to the
debug log."""
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class CapturedOutput:
    """What a native library printed inside ``native_output_captured`` (filled when the block ends)."""

    text: str = ""

    def tail(self, chars: int = 300) -> str:
        """The last ``chars`` characters on one line."""
        return " ".join(self.text.split())[-chars:]

    def last_line(self) -> str:
        """The last non-empty line (what a library printed when it gave up)."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        return lines[-1][:200] if lines else "no message"


def flush_c_streams() -> None:
    """Flush the C library's stdio buffers (output a native library printed but has not written yet)."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to load by name (Windows): nothing buffered there to flush
        pass


@contextmanager
def native_output_captured() -> Iterator[CapturedOutput]:
    """Redirect the process's stdout and stderr file descriptors (what C/C++ code writes) into a temporary file."""
    captured = CapturedOutput()
    flush_c_streams()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            flush_c_streams()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.text = sink.read().decode(errors="replace")


@contextmanager
def chatter_to_debug(what: str) -> Iterator[None]:
    """Run a third-party converter or loader with everything it prints (native logs, Python warnings and log lines,
    progress) sent to lsnet's debug log instead of the console; ``LSNET_DEBUG=1`` lets it through as it comes."""
    if os.environ.get("LSNET_DEBUG"):
        yield
        return
    printed = CapturedOutput()
    try:
        with native_output_captured() as printed:
            yield
    finally:
        for line in printed.text.splitlines():
            if line.strip():
                log.debug("%s: %s", what, line.rstrip())
