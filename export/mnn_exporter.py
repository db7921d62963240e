"""MNN export hook: our ONNX export converted to an ``.mnn`` model by MNN's converter, called in-process.

Safety: the converter is MNN's compiled ``_tools.mnnconvert(argv)``, called directly. The ``mnnconvert`` console
script (``MNN.tools.mnnconvert``) is never used and ``MNN.tools`` is never imported: importing it runs
``pip install aliyun-log-python-sdk`` into whatever Python is on PATH and contacts a remote telemetry endpoint, and
the script sends every conversion's details there. The compiled converter opens no socket (checked with strace).

Why from ONNX and which SKA: MNN converts the default ONNX export exactly (max abs error ~1e-6, dynamic batch kept),
so the model inherits the ONNX checks (rank <= 4, simplified graph). The ``shift`` SKA (slices and adds) ran 1.06x faster
than ``conv_im2col`` in MNN (lsnet_t, batch 1, one thread, p50 14.7 ms vs 15.6 ms, interleaved:
bench/results/ncnn_mnn_ska_cpu_vm_20261201.json), so it is the format's default; ``unfold`` is not an ONNX option (rank 6).
FP16 (``--half``): MNN's ``--fp16`` stores the weights in FP16; the CPU backend computes in FP32.
"""
import copy
import tempfile
from pathlib import Path
from typing import Any

from torch import nn

from lsnet.deps import require
from lsnet.errors import LsnetError
from lsnet.export.metadata import package_version
from lsnet.export.options import ExportOptions

BIZ_CODE = "lsnet"  # MNN's free-form model tag, stored in the model


class MNNConversionError(LsnetError):
    """MNN's converter could not convert the ONNX export."""


def preflight_mnn(options: ExportOptions) -> None:
    """MNN and its converter importable (MNN prints CPU features at import: captured), then the ONNX export's checks."""
    from lsnet.export.onnx_exporter import preflight_onnx
    from lsnet.runtimes.native_output import native_output_captured

    with native_output_captured():
        require("MNN", "mnn", "MNN export")
        require("_tools", "mnn", "MNN export")
    preflight_onnx(options)


def export_mnn(model: nn.Module, options: ExportOptions, path: Path) -> dict[str, Any]:
    """Write ``model`` as an MNN model at ``path``; return the metadata."""
    from lsnet.export.onnx_exporter import export_onnx
    from lsnet.runtimes.native_output import native_output_captured

    converter = require("_tools", "mnn", "MNN export")  # MNN's compiled converter; never MNN.tools (module docstring)
    onnx_options = copy.copy(options)
    onnx_options.half = False  # FP16 is MNN's weight storage below, not an FP16 ONNX graph
    with tempfile.TemporaryDirectory(prefix="lsnet-mnn-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        onnx_meta = export_onnx(model, onnx_options, onnx_path)
        argv = ["mnnconvert", "-f", "ONNX", "--modelFile", str(onnx_path), "--MNNModel", str(path), "--bizCode", BIZ_CODE]
        with native_output_captured() as printed:
            converted = converter.mnnconvert(argv + (["--fp16"] if options.half else []))
    if not converted or not path.is_file() or "Converted Success" not in printed.text:
        raise MNNConversionError(f"MNN cannot convert the ONNX export ({printed.tail(200)}); export with the default --ska shift.")
    return {
        "mnn": {
            "source": "onnx",
            "converter": "MNN _tools.mnnconvert (in-process; not the mnnconvert script, which installs packages and sends telemetry)",
            "weights_storage": "fp16" if options.half else "fp32",
        },
        "onnx": {key: onnx_meta[key] for key in ("opset", "exporter", "rewrites", "simplified") if key in onnx_meta},
        "dynamic_batch": options.dynamic_batch,
        "notes": onnx_meta.get("notes", []),
        "versions": {"mnn": package_version("mnn"), "onnx": package_version("onnx")},
    }
