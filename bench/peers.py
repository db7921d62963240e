"""Other mobile backbones exported to ONNX the way LSNet is, so one harness compares them.

Runs where ``timm`` is installed (``pip install "lsnet[peers]"``), e.g. a separate environment:
``python -m lsnet.bench.peers --out exports/`` writes ``<name>.onnx`` plus a sidecar per peer
(random initialisation, reparameterized, legacy exporter, dynamic batch, opset 18, onnxslim when present).
"""
import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any


OPSET = 18


@dataclass(frozen=True)
class Peer:
    """A timm backbone to compare with, and what its authors report."""

    timm_name: str
    label: str
    paper: str
    takes_img_size: bool = False  # attention models whose window layout depends on the input size


PEERS: dict[str, Peer] = {
    p.timm_name: p
    for p in (
        Peer("mobilenetv3_large_100", "MobileNetV3-Large", "Howard et al., ICCV 2019"),
        Peer("efficientvit_m4", "EfficientViT-M4", "Liu et al., CVPR 2023", takes_img_size=True),
        Peer("repvit_m1_1", "RepViT-M1.1", "Wang et al., CVPR 2024"),
        Peer("fastvit_t8", "FastViT-T8", "Vasu et al., ICCV 2023"),
    )
}
REQUIRED_PEERS = ("mobilenetv3_large_100", "efficientvit_m4")


def import_timm() -> tuple[Any, str | None]:
    """(timm, None), or (None, why it cannot be imported); tolerates PyPI's CUDA-linked torchvision beside CPU torch."""
    from lsnet.bench.torchvision_compat import declare_ops_if_extension_fails
    from lsnet.deps import try_import

    declare_ops_if_extension_fails()
    return try_import("timm")


def build_peer(name: str, img_size: int) -> Any:
    """The peer in eval mode with random weights, re-parameterized where the architecture supports it."""
    from lsnet.errors import MissingDependencyError

    timm, why = import_timm()
    if timm is None:
        raise MissingDependencyError(f"timm {why} (needed for exporting peer backbones): pip install \"lsnet[peers]\"")
    from timm.utils.model import reparameterize_model

    sized = {"img_size": img_size} if PEERS[name].takes_img_size else {}
    model = timm.create_model(name, pretrained=False, num_classes=1000, **sized)
    return reparameterize_model(model.eval())


def export_peer(name: str, out_dir: Path, img_size: int = 224) -> Path:
    """Export one peer to ``out_dir/<name>.onnx`` with a sidecar; written atomically, simplified like our default export."""
    import torch

    from lsnet.choices import pick
    from lsnet.export.artifact import staged, write_json_atomic
    from lsnet.runtimes.artifact_metadata import sidecar_path
    from lsnet.export.metadata import timestamp, tool_versions
    from lsnet.export.onnx_exporter import simplify_onnx

    pick("peer model", name, PEERS)
    torch.manual_seed(0)
    model = build_peer(name, img_size)
    target = Path(out_dir) / f"{name}.onnx"
    example = torch.randn(1, 3, img_size, img_size)
    with staged(target) as temp:
        torch.onnx.export(
            model, (example,), str(temp), dynamo=False, opset_version=OPSET,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
        notes: list[str] = []
        simplified = simplify_onnx(temp, notes)
    metadata = {
        "variant": name,
        "label": PEERS[name].label,
        "paper": PEERS[name].paper,
        "format": "onnx",
        "precision": "fp32",
        "ska": None,
        "opset": OPSET,
        "simplify": simplified,
        "notes": notes,
        "dynamic_batch": True,
        "weights": "random-init",
        "source": "timm",
        "img_size": [img_size, img_size],
        "input": {"name": "input", "shape": ["batch", 3, img_size, img_size], "layout": "NCHW", "dtype": "float32"},
        "created": timestamp(),
        "versions": tool_versions("timm", "onnx", "onnxslim"),
    }
    write_json_atomic(sidecar_path(target), metadata)
    return target


def export_peers(out_dir: Path, names: list[str] | None = None, img_size: int = 224) -> list[Path]:
    """Export several peers (default: all of PEERS)."""
    return [export_peer(name, out_dir, img_size) for name in names or list(PEERS)]


def main(argv: list[str] | None = None) -> None:
    """``python -m lsnet.bench.peers --out DIR [--models a,b] [--img-size 224]``."""
    from lsnet.errors import LsnetError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for <name>.onnx and sidecars")
    parser.add_argument("--models", default=",".join(PEERS), help=f"comma-separated subset of {', '.join(PEERS)}")
    parser.add_argument("--img-size", type=int, default=224)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        for path in export_peers(args.out, [m.strip() for m in args.models.split(",") if m.strip()], args.img_size):
            print(json.dumps({"exported": str(path)}))
    except LsnetError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
