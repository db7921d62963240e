"""uvicorn under the service's limits: header/keep-alive timeouts, a connection cap, a bounded drain."""
import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from lsnet.serve.settings import ServeSettings

MAX_HEADER_BYTES = 16 * 1024  # h11's largest incomplete event: request line + headers


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that closes a connection whose request headers do not arrive in time.

    uvicorn itself only times out idle keep-alive connections; a client trickling header bytes
    (slowloris) would hold its connection forever. The timer runs from the connection's start (or
    the end of the previous response) until a complete request head has been parsed.
    """

    header_timeout_s: float = 15.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request head is complete
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive within %g s", self.header_timeout_s)
            self.transport.close()


def guarded_protocol(header_timeout_s: float) -> type[GuardedH11Protocol]:
    """A ``GuardedH11Protocol`` class with its header timeout set."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout_s": header_timeout_s})


def server_config(app: Any, settings: ServeSettings, log_level: str = "info", **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration every ``lsnet serve`` process runs with."""
    options: dict[str, Any] = {
        "http": guarded_protocol(settings.read_timeout_s),
        "log_level": log_level,
        "lifespan": "on",
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": settings.drain_timeout_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        **overrides,
    }
    return uvicorn.Config(app, **options)


class DrainingServer(uvicorn.Server):
    """uvicorn's server that turns the service's readiness false as soon as a shutdown signal arrives."""

    def __init__(self, config: uvicorn.Config, service: Any) -> None:
        super().__init__(config)
        self.service = service

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.service.draining = True
        super().handle_exit(sig, frame)
