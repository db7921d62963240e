"""Run the service: one process, or ``--workers N`` processes accepting on one port.

Each worker opens its own runner and micro-batcher. On Linux each worker listens on its own SO_REUSEPORT
socket, so the kernel spreads new connections evenly over the workers; with one shared accept queue, keep-alive
connections pile onto whichever worker accepts first (15 of 16 clients on one of two workers, measured). The
supervisor forwards SIGTERM/SIGINT to every worker; each stops accepting, turns its readiness false,
finishes in-flight requests within ``--drain-timeout`` and exits. A worker that dies is replaced.
"""
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from lsnet.serve.settings import ServeSettings

log = logging.getLogger(__name__)

SUPERVISOR_MARGIN_S = 5.0  # beyond the drain timeout, before a worker that did not stop is killed
STARTUP_GRACE_S = 60.0  # a worker dying sooner after its start is a startup failure, not restarted


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs to open the artifact and serve it (picklable)."""

    artifact: str
    device: str = "cpu"
    runner_options: dict[str, Any] = field(default_factory=dict)
    settings: ServeSettings = field(default_factory=ServeSettings)
    log_level: str = "info"
    workers: int = 1
    labels: tuple[str, ...] | None = None  # --labels: class names replacing the artifact's


def spread_by_kernel() -> bool:
    """Whether the kernel balances connections over SO_REUSEPORT listeners of one port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to (host, port), before the model loads; one clear line when the port is taken.

    With ``reuse_port`` other SO_REUSEPORT sockets may bind the same port (the workers' own listeners).
    """
    from lsnet.errors import LsnetError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # proto must say TCP: asyncio sets TCP_NODELAY only on such sockets, and without it every response
        # after the first on a keep-alive connection waits ~40 ms for the client's delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise LsnetError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host.") from None
    return sock


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, threads: int) -> int:
    """Intra-op threads of each worker: as asked, else the CPUs split so workers x threads <= cores (0: runtime default)."""
    if threads or workers == 1:
        return threads
    return max(1, cpu_count() // workers)


def build_app(spec: WorkerSpec, worker: int = 0):
    """(runner, Starlette app) for ``spec`` in this process."""
    from lsnet.runtimes.registry import open_runner
    from lsnet.serve.app import create_app
    from lsnet.serve.settings import serving_metadata, with_labels

    runner = open_runner(spec.artifact, device=spec.device, **spec.runner_options)
    try:
        metadata = serving_metadata(runner, spec.artifact)
        if spec.labels is not None:
            metadata = with_labels(metadata, spec.labels, runner)
        app = create_app(runner, metadata, spec.settings)
    except BaseException:
        runner.close()
        raise
    app.state.service.worker = {"index": worker, "of": spec.workers, "threads": spec.runner_options.get("threads", 0)}
    return runner, app


def serve_here(spec: WorkerSpec, sock: socket.socket, worker: int = 0) -> None:
    """Open the runner and serve on ``sock`` in this process until SIGTERM/SIGINT (drained, then closed)."""
    from lsnet.serve.server import DrainingServer, server_config

    runner, app = build_app(spec, worker)
    try:
        server = DrainingServer(server_config(app, spec.settings, spec.log_level), app.state.service)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises a captured SIGINT after a clean, drained shutdown
            pass
    finally:
        runner.close()


def _worker_main(spec: WorkerSpec, listener: socket.socket | tuple[str, int], worker: int) -> None:
    """A worker: serve on the shared socket, or on its own SO_REUSEPORT listener at the (host, port) given."""
    logging.basicConfig(level=spec.log_level.upper(), format=f"%(levelname)s: [worker {worker}] %(message)s")
    sock = bind_socket(*listener, reuse_port=True) if isinstance(listener, tuple) else listener
    try:
        serve_here(spec, sock, worker)
    finally:
        if sock is not listener:
            sock.close()


def run_workers(spec: WorkerSpec, sock: socket.socket) -> int:
    """Supervise ``spec.workers`` worker processes on ``sock`` until SIGTERM/SIGINT; 0 when all drained in time.

    A ``sock`` bound with SO_REUSEPORT only holds the port (it never listens): each worker binds its own listener.
    """
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    reuse_port = bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)) if hasattr(socket, "SO_REUSEPORT") else False
    listener: socket.socket | tuple[str, int] = sock.getsockname()[:2] if reuse_port else sock

    def start(index: int) -> multiprocessing.Process:
        process = context.Process(target=_worker_main, args=(spec, listener, index), name=f"lsnet-serve-{index}", daemon=False)
        process.start()
        return process

    def on_signal(signum: int, frame: Any) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        processes = [start(i) for i in range(spec.workers)]
        started = [time.monotonic()] * spec.workers
        failed = False
        while not stopping and not failed:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started[i] < STARTUP_GRACE_S:  # a worker that cannot start will not start again
                    log.error("worker %d failed while starting (exit code %s); stopping all workers", i, process.exitcode)
                    failed = True
                    break
                log.warning("worker %d exited with code %s; starting a new one", i, process.exitcode)
                processes[i], started[i] = start(i), time.monotonic()
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + spec.settings.drain_timeout_s + SUPERVISOR_MARGIN_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        late = [p for p in processes if p.is_alive()]
        for process in late:
            log.error("%s did not stop within the drain timeout; killing it", process.name)
            process.kill()
            process.join()
        return 1 if late or failed else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
