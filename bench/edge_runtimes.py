"""CPU runtime shoot-out: LSNet and peers in every installed runtime (ONNX Runtime, OpenVINO, LiteRT/XNNPACK,
ExecuTorch/XNNPACK, ncnn, MNN), one interleaved run with the ``lsnet bench`` harness, same thread count for all.

    python -m lsnet.bench.edge_runtimes --models lsnet_t,lsnet_s --batches 1,8 --threads 2 --min-time 20 --rounds 10 \\
        --out bench/results/edge_runtimes_cpu.json

LSNet goes through ``lsnet export`` with each format's default (parity-checked; seeded random init, latency does
not depend on the weight values). LSNet's ONNX (and the OpenVINO IR made from it) carries our ONNX Runtime layout
rewrites; ``<model>_generic.onnx`` is the same export without them, the footing the peers are on. LSNet's ExecuTorch
program carries lsnet's XNNPACK rewrites. Peers (timm, ``pip install "lsnet[peers]"``; left out with a note where
timm cannot be imported) get the generic path of each runtime: the timm model through the same exporter hooks, with
no model-specific rewrites (ExecuTorch's generic edge passes apply to them too). LiteRT and ExecuTorch programs have
a fixed batch, so they are exported once per batch size; each is measured at its own batch only.
"""
import argparse
import logging
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

RUNTIMES = {
    "onnx": ".onnx", "openvino": ".xml", "litert": ".tflite", "executorch": ".pte", "ncnn": ".ncnn.param", "mnn": ".mnn",
}
FIXED_BATCH = ("litert", "executorch")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``argv`` None: sys.argv)."""
    from lsnet.bench.commands import add_sweep_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lsnet_t,lsnet_s", help="LSNet variants")
    parser.add_argument("--peers", default="mobilenetv3_large_100,efficientvit_m4", help="timm peers ('' for none)")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES), help=f"subset of {', '.join(RUNTIMES)}")
    parser.add_argument("--folder", type=Path, default=None, help="keep the exports here (reused when present)")
    add_sweep_options(parser, "1,8", "edge_runtimes")
    return parser.parse_args(argv)


def installed_runtimes(wanted: list[str]) -> list[str]:
    """The wanted runtimes whose extra is installed; the others are logged and left out."""
    from lsnet.export.api import check_requirements
    from lsnet.export.formats import resolve_format
    from lsnet.errors import MissingDependencyError

    found = []
    for name in wanted:
        try:
            check_requirements(resolve_format(name))
            found.append(name)
        except MissingDependencyError as exc:
            log.warning("leaving out %s: %s", name, exc)
    return found


def lsnet_exports(model: str, runtime: str, batches: list[int], folder: Path) -> list[Path]:
    """``lsnet export`` of ``model`` for ``runtime``: one dynamic-batch artifact, or one per batch."""
    from lsnet.export import export

    suffix = RUNTIMES[runtime]
    if runtime == "onnx":  # also without our layout rewrites: the generic path the peers get
        paths = [folder / f"{model}.onnx", folder / f"{model}_generic.onnx"]
        for path, rewrites in zip(paths, ("all", "none")):
            if not path.is_file():
                export(model, runtime, output=path, rewrites=rewrites)
        return paths
    if runtime not in FIXED_BATCH:
        path = folder / f"{model}{suffix}"
        return [path if path.is_file() else export(model, runtime, output=path).path]
    paths = []
    for batch in batches:
        path = folder / f"{model}_b{batch}{suffix}"
        paths.append(path if path.is_file() else export(model, runtime, batch=batch, output=path).path)
    return paths


def peer_exports(name: str, runtime: str, batches: list[int], folder: Path) -> list[Path]:
    """The generic path of ``runtime`` for a timm peer: ONNX as bench/peers.py writes it, the IR converted from that
    ONNX, the other formats through the format table's own exporter hook (without parity: the peer has no reference)."""
    from lsnet.bench.peers import build_peer, export_peer
    from lsnet.export.artifact import staged_files, write_json_atomic
    from lsnet.export.api import load_hook
    from lsnet.export.formats import resolve_format
    from lsnet.export.options import ExportOptions
    from lsnet.runtimes.artifact_metadata import read_sidecar, sidecar_path

    onnx = folder / f"{name}.onnx"
    if not onnx.is_file():
        export_peer(name, folder)
    if runtime == "onnx":
        return [onnx]
    if runtime == "openvino":
        return [_onnx_to_openvino(onnx, folder / f"{name}.xml")]
    fmt = resolve_format(runtime)
    paths = []
    for batch in batches if runtime in FIXED_BATCH else [None]:
        path = folder / (f"{name}{RUNTIMES[runtime]}" if batch is None else f"{name}_b{batch}{RUNTIMES[runtime]}")
        if not path.is_file():
            meta = {**read_sidecar(onnx), "format": runtime, "batch": batch or "dynamic", "dynamic_batch": batch is None}
            meta["input"] = {**meta["input"], "shape": [batch or "batch", *meta["input"]["shape"][1:]]}
            options = ExportOptions(batch=batch or 1, dynamic_batch=batch is None)
            with staged_files(path, fmt.companions) as temp:
                meta.update(load_hook(fmt.exporter)(build_peer(name, 224), options, temp))
            write_json_atomic(sidecar_path(path), meta)
        paths.append(path)
    return paths


def _onnx_to_openvino(onnx: Path, xml: Path) -> Path:
    """An OpenVINO IR converted from ``onnx`` (no rewrites), with the ONNX sidecar marked as OpenVINO."""
    import openvino as ov

    from lsnet.export.artifact import staged_files, write_json_atomic
    from lsnet.runtimes.artifact_metadata import read_sidecar, sidecar_path

    if not xml.is_file():
        with staged_files(xml, (".bin",)) as temp:
            ov.save_model(ov.convert_model(str(onnx)), str(temp))
        write_json_atomic(sidecar_path(xml), {**read_sidecar(onnx), "format": "openvino"})
    return xml


def peers_available(names: list[str]) -> list[str]:
    """The peers timm can build here; none (with a warning) when timm or torchvision cannot be imported."""
    from lsnet.bench.peers import import_timm

    if not names:
        return []
    timm, why = import_timm()
    if timm is None:
        log.warning("leaving out the peers %s: timm %s (pip install \"lsnet[peers]\")", ", ".join(names), why)
        return []
    return names


def export_targets(args: argparse.Namespace, folder: Path, left_out: list[str]) -> list[str]:
    """Every artifact of the shoot-out, runtime-major so one runtime's rows sit together; a peer that a runtime
    cannot take is logged and named in ``left_out`` (LSNet exports must succeed)."""
    from lsnet.bench.commands import parse_int_list
    from lsnet.errors import LsnetError

    batches = parse_int_list(args.batches, "--batches")
    runtimes = installed_runtimes([r.strip() for r in args.runtimes.split(",") if r.strip()])
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    peers = peers_available([p.strip() for p in args.peers.split(",") if p.strip()])
    paths: list[Path] = []
    for runtime in runtimes:
        for model in models:
            paths += lsnet_exports(model, runtime, batches, folder)
        for peer in peers:
            try:
                paths += peer_exports(peer, runtime, batches, folder)
            except LsnetError as exc:
                log.warning("leaving out %s in %s: %s", peer, runtime, exc)
                left_out.append(f"{peer} is not in {runtime}: {exc}")
    return [str(p) for p in paths]


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Export into ``folder`` and measure with the harness; the results document."""
    from lsnet.bench.commands import sweep_artifacts

    folder.mkdir(parents=True, exist_ok=True)
    left_out: list[str] = []
    doc = sweep_artifacts(lambda: export_targets(args, folder, left_out), args, "bench/edge_runtimes.py")
    doc["settings"].setdefault("notes", []).extend([
        "LSNet's ONNX and the OpenVINO IR made from it carry lsnet's ONNX Runtime layout rewrites; <model>_generic.onnx"
        " is the same export without them. LSNet's ExecuTorch program carries lsnet's XNNPACK rewrites"
        " (export/executorch_rewrites.py); peers get each runtime's generic path (ExecuTorch's generic edge passes"
        " included). LiteRT/ExecuTorch programs have a fixed batch: one per batch size.",
        *left_out,
    ])
    return doc


def main(argv: list[str] | None = None) -> Path:
    """Run the shoot-out, print the table and write the results; returns the results path."""
    from lsnet.bench.commands import export_measure_emit

    args = parse_args(argv)
    return export_measure_emit(benchmark, args, "edge_runtimes", args.folder)


if __name__ == "__main__":
    from lsnet.bench.commands import run_script

    run_script(main)
