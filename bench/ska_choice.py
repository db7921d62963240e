"""Pick the fastest SKA formulation for PyTorch eager on this machine (used by run_cpu_suite.sh).

``python -m lsnet.bench.ska_choice --model lsnet_t --device cpu`` prints one name. Formulations
that cannot run here (e.g. a GPU-only kernel on CPU) are skipped with a warning.
"""
import argparse
import logging

from lsnet.bench.harness import Candidate, Harness, Settings, random_batch
from lsnet.bench.timing import timer_for

log = logging.getLogger(__name__)


def fastest_ska(model: str, device: str = "cpu", batch: int = 1, settings: Settings | None = None,
                threads: int | None = None) -> str:
    """The SKA formulation with the lowest p50 latency, all measured in one interleaved run."""
    from lsnet import list_ska
    from lsnet.errors import LsnetError
    from lsnet.runtimes.torch_runner import TorchRunner

    settings = settings or Settings(warmup_s=0.5, warmup_iters=2, min_time_s=2.0, rounds=2)
    candidates = []
    for name in list_ska():
        try:
            runner = TorchRunner(model, device=device, ska=name, threads=threads)
            runner.infer_native(runner.prepare(random_batch(runner, batch, 0)))  # a smoke call
        except (LsnetError, RuntimeError, NotImplementedError) as exc:
            log.warning("SKA '%s' cannot run on %s here: %s", name, device, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            continue
        candidates.append(Candidate(label=name, runner=runner))
    if not candidates:
        raise LsnetError(f"no SKA formulation runs on {device}: check the installation with lsnet models.")
    measured = Harness(settings, timer_for(device)).run(candidates, [batch])
    return min(measured, key=lambda m: m.stats.p50).candidate.label


def main(argv: list[str] | None = None) -> None:
    """Print the fastest formulation's name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lsnet_t")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--min-time", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    settings = Settings(warmup_s=0.5, warmup_iters=2, min_time_s=args.min_time, rounds=2)
    print(fastest_ska(args.model, args.device, args.batch, settings, args.threads))


if __name__ == "__main__":
    main()
