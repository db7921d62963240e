"""``lsnet serve ARTIFACT``: open the artifact in its runner and serve it with uvicorn."""
from pathlib import Path

import typer

from lsnet.commands.options import ImgSizeOption, LabelsOption, parse_size


def serve(
    artifact: str = typer.Argument(..., help="Artifact (.onnx, .engine, .mlpackage, .pth) or a model name such as lsnet_t."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; 0.0.0.0 exposes the service on the network."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    max_batch: int = typer.Option(16, "--max-batch", help="Largest batch the micro-batcher forms."),
    max_wait_ms: float = typer.Option(5.0, "--max-wait-ms", help="Longest wait for more images before running a batch."),
    queue_size: int = typer.Option(64, "--queue-size", help="Images allowed to wait; beyond it requests get 503 at once."),
    max_body_mb: float = typer.Option(20.0, "--max-body-mb", help="Largest request body in MiB (413 beyond)."),
    top: int = typer.Option(5, "--top", help="Classes returned per image."),
    timeout_s: float = typer.Option(30.0, "--timeout-s", help="Longest wait for a result before answering 504."),
    max_pixels: int = typer.Option(40_000_000, "--max-pixels", help="Largest image (width x height, read from its header before decoding); 413 beyond."),
    decode_concurrency: int = typer.Option(2, "--decode-concurrency", help="Requests decoding images at the same time."),
    read_timeout_s: float = typer.Option(15.0, "--read-timeout-s", help="Longest time for a request's headers and for its body (408 / connection closed)."),
    keep_alive_s: float = typer.Option(5.0, "--keep-alive-s", help="Idle keep-alive connections are closed after this."),
    max_connections: int = typer.Option(256, "--max-connections", help="Open connections (and requests) beyond this get 503."),
    drain_timeout: float = typer.Option(10.0, "--drain-timeout", help="On SIGTERM/SIGINT: longest wait for in-flight requests before they are cut."),
    api_key: str | None = typer.Option(None, "--api-key", envvar="LSNET_API_KEY", show_envvar=True, help="Require 'Authorization: Bearer KEY' (health probes stay open)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (runners that support it)."),
    threads: int = typer.Option(0, "--threads", help="Intra-op threads of each worker's runtime (0: the runtime's default, or cores / workers with --workers > 1)."),
    workers: int = typer.Option(1, "--workers", help="Processes accepting on the port, each with its own runner and batcher."),
    ray: bool = typer.Option(False, "--ray", help="Serve as a Ray Serve deployment on a local Ray instance (needs the ray extra: docs/serving.md)."),
    replicas: int = typer.Option(1, "--replicas", help="With --ray: replicas (each its own runner and batcher)."),
    min_replicas: int | None = typer.Option(None, "--min-replicas", help="With --ray: autoscale between --min-replicas and --max-replicas."),
    max_replicas: int | None = typer.Option(None, "--max-replicas", help="With --ray: the autoscaling ceiling."),
    cpus_per_replica: float = typer.Option(1.0, "--cpus-per-replica", help="With --ray: CPUs Ray reserves per replica."),
    img_size: str = ImgSizeOption,
    labels: Path | None = LabelsOption,
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve an artifact over HTTP: POST /predict, the KServe v2 protocol under /v2, GET /health /metadata /metrics."""
    from lsnet.deps import require
    from lsnet.errors import LsnetError, UnknownOptionError
    from lsnet.init import RANDOM_WEIGHTS, warn_random_weights
    from lsnet.labels import read_labels
    from lsnet.runtimes.artifact_metadata import read_sidecar
    from lsnet.runtimes.model_repository import resolve_artifact
    from lsnet.serve.settings import ServeSettings
    from lsnet.variants import VARIANTS

    settings = ServeSettings(
        max_batch, max_wait_ms, queue_size, max_body_mb, top, timeout_s, max_pixels, decode_concurrency,
        read_timeout_s, keep_alive_s, max_connections, drain_timeout, api_key,
    )
    if workers < 1:
        raise UnknownOptionError(f"--workers must be >= 1, got {workers}.")
    require("uvicorn", "serve", "lsnet serve")
    require("starlette", "serve", "lsnet serve")
    if artifact not in VARIANTS and not Path(artifact).exists():
        raise LsnetError(f"artifact not found: {artifact}. Pass an existing .onnx/.engine/.mlpackage/.pth file or a model name.")
    from lsnet.serve.workers import WorkerSpec, bind_socket, run_workers, serve_here, spread_by_kernel, threads_per_worker

    options: dict = {}
    if threads_per_worker(workers, threads):
        options["threads"] = threads_per_worker(workers, threads)
    if artifact in VARIANTS or artifact.endswith((".pth", ".pt", ".safetensors")):
        options["img_size"] = parse_size(img_size)
    artifact = str(resolve_artifact(artifact))  # a Triton model or version folder: its model file
    random_weights = artifact in VARIANTS or read_sidecar(Path(artifact)).get("weights") == RANDOM_WEIGHTS
    names = tuple(read_labels(labels)) if labels is not None else None  # a bad file fails before any work
    spec = WorkerSpec(
        str(Path(artifact).resolve()) if Path(artifact).exists() else artifact, device, options, settings, log_level,
        workers, names,
    )
    if ray:
        from lsnet.serve.ray_serve import RaySettings, run_on_ray

        ray_settings = RaySettings(replicas, min_replicas, max_replicas, cpus_per_replica=cpus_per_replica)
        require("ray.serve", "ray", "lsnet serve --ray")
        if random_weights:
            warn_random_weights(artifact)
        typer.echo(f"serving {artifact} with Ray Serve on http://{host}:{port} (same routes as lsnet serve)", err=True)
        run_on_ray(spec, ray_settings, host, port)
        return
    sock = bind_socket(host, port, reuse_port=workers > 1 and spread_by_kernel())  # a taken port fails first, alone
    if random_weights:
        warn_random_weights(artifact)
    try:
        where = f"http://{host}:{port}"
        typer.echo(f"serving {artifact} on {where} with {workers} worker(s) (POST /predict, /v2/models/..., GET /health /metadata /metrics)", err=True)
        if workers == 1:
            serve_here(spec, sock)
        elif run_workers(spec, sock) != 0:
            raise LsnetError("a worker failed or did not stop within --drain-timeout; see the log above.")
    finally:
        sock.close()
