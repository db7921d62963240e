"""ncnn export hook: the fused model traced to TorchScript and converted by pnnx to ncnn's ``.param`` + ``.bin``.

Why pnnx from TorchScript, never ncnn's ONNX path: our ONNX export converts without an error but gives wrong logits
in ncnn (cosine 0.971 on lsnet_t: the rank-5 ``ReduceSum(axes=[3])`` becomes an empty-axes reduction), while pnnx
from TorchScript is exact (max abs error ~1e-6 in FP32). pnnx writes several side files (``.pnnx.param``,
``.pnnx.bin``, ``_pnnx.py``, ``_ncnn.py``, ``.pnnx.onnx``); they go to a temporary folder and only the ncnn pair is
published (through ``artifact.staged_files``, with the sidecar).

SKA formulation: ``unfold`` (the format's default). pnnx converts ``unfold`` and ``conv_im2col`` exactly; ``unfold``
ran 1.29x faster than ``conv_im2col`` in ncnn (lsnet_t, batch 1, one thread, p50 13.8 ms vs 17.8 ms, interleaved:
bench/results/ncnn_mnn_ska_cpu_vm_20261201.json). ``shift`` converts to a graph ncnn cannot load (pnnx leaves ``Tensor.slice``,
which ncnn has no layer for); the exporter refuses it in one line.

Batch: ncnn runs one image per extractor and its graph has no batch axis, so the artifact takes any batch: the
runner loops over the images (runtimes/ncnn_runner.py); ``--batch N`` only fixes the batch that parity checks.

Precision: FP32 only, with FP32 weights (pnnx ``fp16=0``; pnnx's default FP16 weights are not offered). Measured on
the trained fixture: pnnx's FP16 weights give max abs logit error 0.03 (cosine 0.99998), ten times OpenVINO's FP16
weight compression (0.003), and flip one of three synthetic image-like inputs, so they fail the FP16 parity gate.
"""
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lsnet.deps import require
from lsnet.errors import LsnetError, UnknownOptionError
from lsnet.export.metadata import package_version
from lsnet.export.onnx_exporter import model_img_size
from lsnet.export.options import ExportOptions

CONVERT_TIMEOUT_S = 900


class NcnnConversionError(LsnetError):
    """pnnx could not convert the model, or ncnn cannot load what it wrote."""


def preflight_ncnn(options: ExportOptions) -> None:
    """Refuse the SKA formulation ncnn cannot load before any model is built."""
    if options.ska == "shift":
        raise UnknownOptionError(
            "--ska shift does not convert to ncnn (pnnx leaves Tensor.slice, which ncnn has no layer for);"
            " export with the default --ska unfold or with conv_im2col."
        )


def export_ncnn(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` (reparameterized, SKA chosen) as ncnn ``path`` (.param) + its ``.bin``; return the metadata."""
    pnnx = require("pnnx", "ncnn", "ncnn export")
    ncnn = require("ncnn", "ncnn", "ncnn export")
    height, width = model_img_size(model)
    path = Path(path).resolve()  # pnnx runs in its own temporary folder
    weights = path.with_suffix(".bin")
    with tempfile.TemporaryDirectory(prefix="lsnet-pnnx-") as tmp:
        folder = Path(tmp)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks traced as constants: one fixed input size
            warnings.filterwarnings("ignore", "`torch.jit.trace", DeprecationWarning)  # pnnx reads TorchScript only
            traced = torch.jit.trace(model.eval(), torch.randn(1, 3, height, width), check_trace=False)
        traced.save(str(folder / "model.pt"))
        command = [
            pnnx.EXEC_PATH, str(folder / "model.pt"), f"inputshape=[1,3,{height},{width}]f32", "device=cpu",
            f"ncnnparam={path}", f"ncnnbin={weights}", "fp16=0",
            *(f"{key}={folder / name}" for key, name in (
                ("pnnxparam", "model.pnnx.param"), ("pnnxbin", "model.pnnx.bin"), ("pnnxpy", "model_pnnx.py"),
                ("pnnxonnx", "model.pnnx.onnx"), ("ncnnpy", "model_ncnn.py"),
            )),
        ]
        try:
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise NcnnConversionError(f"pnnx did not finish in {CONVERT_TIMEOUT_S} s; export again or with another --ska.") from exc
    if done.returncode != 0 or not (path.is_file() and weights.is_file()):
        tail = " ".join((done.stderr + done.stdout).split())[-200:]
        raise NcnnConversionError(f"pnnx cannot convert {options.ska} SKA (exit {done.returncode}: {tail}); export with the default --ska unfold.")
    record_input_shape(path, height, width)
    check_loadable(ncnn, path)
    return {
        "ncnn": {
            "source": "torchscript via pnnx (never ONNX: ncnn's ONNX path gives wrong logits for this model)",
            "files": ["param (graph)", "bin (weights, same stem)"],
            "weights_storage": "fp32",
            "input_blob": "in0", "output_blob": "out0",
            "batch": "one image per extractor; the runner loops over a batch",
        },
        "dynamic_batch": options.dynamic_batch,  # what parity checked; the graph itself takes any batch
        "versions": {"pnnx": package_version("pnnx"), "ncnn": package_version("ncnn")},
    }


def record_input_shape(param: Path, height: int, width: int) -> None:
    """Write the input size into the graph's ``Input`` layer (ncnn's params ``0=w 1=h 2=c``; pnnx leaves them
    out), so the artifact says what it takes without its sidecar (runtimes/ncnn_runner.py reads it)."""
    lines = param.read_text().splitlines()
    for index, line in enumerate(lines):
        fields = line.split()
        if fields and fields[0] == "Input" and not any("=" in field for field in fields):
            lines[index] = f"{line} 0={width} 1={height} 2=3"
            break
    param.write_text("\n".join(lines) + "\n")


def check_loadable(ncnn: Any, param: Path) -> None:
    """Load the converted graph in ncnn; one error naming what ncnn refused (an op pnnx left unconverted)."""
    from lsnet.runtimes.native_output import native_output_captured

    net = ncnn.Net()
    with native_output_captured() as printed:
        failed = net.load_param(str(param)) != 0 or net.load_model(str(param.with_suffix(".bin"))) != 0
    if failed:
        raise NcnnConversionError(f"ncnn cannot load the converted graph ({printed.tail(200)}); export with the default --ska unfold.")
