"""Ray Serve deployment of the same service: each replica opens its runner and micro-batcher and serves
the same Starlette app (``/predict``, ``/v2/...``, ``/health``, ``/metadata``, ``/metrics``) behind Ray's proxy.

    lsnet serve lsnet_t.onnx --ray --replicas 2                        # a local Ray instance, fixed replicas
    lsnet serve lsnet_t.onnx --ray --min-replicas 1 --max-replicas 4   # autoscaling on ongoing requests

From Python (e.g. on an existing cluster): ``serve.run(application(WorkerSpec("lsnet_t.onnx"), RaySettings(...)))``.
"""
import signal
import threading
from dataclasses import dataclass
from typing import Any

from lsnet.errors import UnknownOptionError
from lsnet.serve.workers import WorkerSpec, build_app


@dataclass(frozen=True)
class RaySettings:
    """Replicas, autoscaling and resources of the deployment."""

    replicas: int = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_ongoing_requests: float = 8.0
    cpus_per_replica: float = 1.0
    max_ongoing_requests: int = 64
    name: str = "lsnet"

    def __post_init__(self) -> None:
        if self.replicas < 1 or self.cpus_per_replica <= 0 or self.max_ongoing_requests < 1:
            raise UnknownOptionError("--replicas and --max-ongoing-requests must be >= 1 and --cpus-per-replica positive.")
        if (self.min_replicas is None) != (self.max_replicas is None):
            raise UnknownOptionError("autoscaling needs both --min-replicas and --max-replicas.")
        if self.min_replicas is not None and not 0 <= self.min_replicas <= self.max_replicas:
            raise UnknownOptionError(f"need 0 <= --min-replicas <= --max-replicas, got {self.min_replicas} and {self.max_replicas}.")

    def deployment_options(self) -> dict[str, Any]:
        """Keyword arguments of ``ray.serve.deployment``."""
        options: dict[str, Any] = {
            "name": self.name,
            "ray_actor_options": {"num_cpus": self.cpus_per_replica},
            "max_ongoing_requests": self.max_ongoing_requests,
        }
        if self.min_replicas is None:
            options["num_replicas"] = self.replicas
        else:
            options["autoscaling_config"] = {
                "min_replicas": self.min_replicas,
                "max_replicas": self.max_replicas,
                "initial_replicas": max(self.min_replicas, 1),
                "target_ongoing_requests": self.target_ongoing_requests,
            }
        return options


class LsnetReplica:
    """One Ray Serve replica: the runner and app of ``lsnet serve`` built inside the replica's process."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.runner, self.lsnet_app = build_app(spec)  # (``app`` is Ray's own property on the replica)

    def __serve_build_asgi_app__(self) -> Any:
        return self.lsnet_app


def application(spec: WorkerSpec, ray_settings: RaySettings):
    """The bound Ray Serve application (pass it to ``ray.serve.run``)."""
    from lsnet.deps import require

    serve = require("ray.serve", "ray", "lsnet serve --ray")
    ingress = serve.ingress()(LsnetReplica)
    return serve.deployment(**ray_settings.deployment_options())(ingress).bind(spec)


def start_local_ray(ray: Any) -> None:
    """A local Ray instance on loopback, without dashboard or usage reporting."""
    import os

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, configure_logging=False, log_to_driver=False)


def run_on_ray(spec: WorkerSpec, ray_settings: RaySettings, host: str, port: int) -> None:
    """Start a local Ray instance, deploy, serve on host:port until SIGTERM/SIGINT, then shut Ray down."""
    from lsnet.deps import require

    ray = require("ray", "ray", "lsnet serve --ray")
    serve = require("ray.serve", "ray", "lsnet serve --ray")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    start_local_ray(ray)
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(application(spec, ray_settings), name=ray_settings.name, route_prefix="/")
        stop.wait()
    finally:
        serve.shutdown()
        ray.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
