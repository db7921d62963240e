"""``lsnet doctor``: what this machine can do (runtimes, GPUs, exporters) and how to install what is missing."""
import json
import logging
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

import typer

from lsnet.deps import try_import

ONNX_HINT = 'pip install "lsnet[onnx]"'
TRT_HINT = 'pip install "lsnet[trt]" (needs an NVIDIA GPU, driver and CUDA; the tensorrt wheels fetch NVIDIA\'s libraries)'
COREML_HINT = 'pip install "lsnet[coreml]"'
TRITON_HINT = 'pip install "lsnet[triton-kernel]"'
OPENVINO_HINT = 'pip install "lsnet[openvino]"'
NNCF_HINT = 'pip install "lsnet[openvino-int8]"'
LITERT_HINT = 'pip install "lsnet[litert]"'
EXECUTORCH_HINT = 'pip install "lsnet[executorch]"'
NCNN_HINT = 'pip install "lsnet[ncnn]"'
MNN_HINT = 'pip install "lsnet[mnn]"'
TORCH_CUDA_HINT = "install a CUDA build of PyTorch (https://pytorch.org/get-started/locally/) on a machine with an NVIDIA GPU"
ORT_GPU_HINT = "pip install onnxruntime-gpu (instead of onnxruntime) for CUDA"


@dataclass
class Component:
    """One optional piece: whether it is usable, its version, what it allows, and how to get it."""

    name: str
    available: bool
    version: str | None = None
    detail: str = ""
    install: str | None = None


def python_info() -> dict[str, Any]:
    return {"version": platform.python_version(), "executable": sys.executable, "platform": platform.platform()}


def torch_info() -> dict[str, Any]:
    """PyTorch version, build (CPU/CUDA/ROCm) and CUDA availability."""
    import torch

    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else f"ROCm {torch.version.hip}" if getattr(torch.version, "hip", None) else "CPU"
    return {
        "version": torch.__version__,
        "build": build,
        "cuda_available": torch.cuda.is_available(),
        "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "mps_available": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }


def nvidia_smi() -> list[dict[str, str]]:
    """GPUs as nvidia-smi reports them (name, memory, driver); [] without nvidia-smi or when it fails."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = [[part.strip() for part in line.split(",")] for line in out.strip().splitlines() if line.strip()]
    return [dict(zip(("index", "name", "memory", "driver"), row)) for row in rows if len(row) == 4]


def gpus() -> list[dict[str, Any]]:
    """CUDA devices seen by PyTorch, with the driver version from nvidia-smi when present."""
    import torch

    if not torch.cuda.is_available():
        return []
    smi = {row["index"]: row for row in nvidia_smi()}
    found = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        found.append({
            "index": index,
            "name": props.name,
            "memory_gib": round(props.total_memory / (1 << 30), 1),
            "compute_capability": f"{props.major}.{props.minor}",
            "driver": smi.get(str(index), {}).get("driver"),
        })
    return found


def quiet_import(module: str) -> tuple[Any, str | None]:
    """``try_import`` with the module's import-time log warnings silenced (coremltools logs several on Linux)."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        return try_import(module)
    finally:
        logging.disable(previous)


def _version(module: Any) -> str | None:
    return getattr(module, "__version__", None)


def distribution(name: str) -> tuple[str | None, str | None]:
    """(version, None) of an installed distribution without importing it (the edge converters take
    seconds to import), or (None, why not)."""
    from importlib import metadata

    try:
        return metadata.version(name), None
    except metadata.PackageNotFoundError:
        return None, f"not installed ({name} is missing)"


def edge_components() -> list[Component]:
    """OpenVINO, LiteRT, ExecuTorch, ncnn and MNN: light runtimes imported, converters (and MNN) only looked up."""
    found: list[Component] = []
    ov, why = try_import("openvino")
    found.append(Component("openvino", ov is not None, _version(ov),
                           "OpenVINO IR export and inference (CPU; Intel GPUs/NPUs where present)" if ov is not None else why,
                           None if ov else OPENVINO_HINT))
    version, why = distribution("nncf")  # not imported: heavy, and only the INT8 export needs it
    found.append(Component("nncf", version is not None, version, why or "OpenVINO INT8 export (--int8)", None if version else NNCF_HINT))
    litert, why = try_import("ai_edge_litert.interpreter")
    found.append(Component("LiteRT runtime", litert is not None, distribution("ai-edge-litert")[0],
                           "running .tflite models (XNNPACK)" if litert is not None else why, None if litert else LITERT_HINT))
    version, why = distribution("litert-torch")
    found.append(Component("litert-torch", version is not None, version, why or ".tflite export", None if version else LITERT_HINT))
    version, why = distribution("executorch")
    found.append(Component("executorch", version is not None, version, why or ".pte export and inference (XNNPACK)",
                           None if version else EXECUTORCH_HINT))
    ncnn, why = try_import("ncnn")
    found.append(Component("ncnn", ncnn is not None, _version(ncnn), "running ncnn .param/.bin models" if ncnn is not None else why,
                           None if ncnn else NCNN_HINT))
    version, why = distribution("pnnx")
    found.append(Component("pnnx", version is not None, version, why or "ncnn export (from TorchScript)", None if version else NCNN_HINT))
    version, why = distribution("mnn")  # not imported: MNN prints from native code at import
    found.append(Component("MNN", version is not None, version, why or ".mnn export (from ONNX) and inference",
                           None if version else MNN_HINT))
    return found


def components(cuda: bool) -> list[Component]:
    """Every optional runtime/exporter with its state and, when missing, the install command."""
    found: list[Component] = []
    found.append(Component("PyTorch CUDA", cuda, detail="GPU inference and benchmarks with PyTorch",
                           install=None if cuda else TORCH_CUDA_HINT))

    onnx, why = try_import("onnx")
    found.append(Component("onnx", onnx is not None, _version(onnx), why or "ONNX export", None if onnx else ONNX_HINT))
    slim, why = try_import("onnxslim")
    found.append(Component("onnxslim", slim is not None, _version(slim), why or "ONNX graph simplification", None if slim else ONNX_HINT))
    ort, why = try_import("onnxruntime")
    providers = list(ort.get_available_providers()) if ort is not None else []
    found.append(Component("onnxruntime", ort is not None, _version(ort),
                           f"providers: {', '.join(providers)}" if ort is not None else why, None if ort else ONNX_HINT))
    if ort is not None and "CUDAExecutionProvider" not in providers:
        found.append(Component("onnxruntime CUDA", False, detail="CUDAExecutionProvider not available", install=ORT_GPU_HINT))

    trt, why = try_import("tensorrt")
    trt_ok = trt is not None and cuda
    trt_detail = "engine export and inference" if trt_ok else why or "installed, but needs a CUDA GPU"
    found.append(Component("TensorRT", trt_ok, _version(trt), trt_detail, None if trt_ok else TRT_HINT if trt is None else TORCH_CUDA_HINT))

    ct, why = quiet_import("coremltools")
    on_mac = platform.system() == "Darwin"
    ct_detail = why or ("conversion and predictions" if on_mac else "conversion only (predictions need macOS)")
    found.append(Component("coremltools", ct is not None, _version(ct), ct_detail, None if ct else COREML_HINT))

    triton, why = try_import("triton")
    if triton is None:
        found.append(Component("triton", False, None, why, TRITON_HINT))
    else:
        detail = "triton SKA kernel runs on this GPU" if cuda else "installed; the triton SKA kernel needs a CUDA GPU"
        found.append(Component("triton", True, _version(triton), detail, None if cuda else TORCH_CUDA_HINT))
    return found + edge_components()


def capabilities(comps: list[Component], cuda: bool) -> dict[str, bool]:
    """What lsnet can do here, derived from the components."""
    ok = {c.name: c.available for c in comps}
    return {
        "pytorch_cpu": True,
        "pytorch_cuda": cuda,
        "export_onnx": ok.get("onnx", False),
        "run_onnx_cpu": ok.get("onnxruntime", False),
        "run_onnx_cuda": ok.get("onnxruntime", False) and "onnxruntime CUDA" not in ok and cuda,
        "export_tensorrt": ok.get("TensorRT", False) and ok.get("onnx", False),
        "run_tensorrt": ok.get("TensorRT", False),
        "export_coreml": ok.get("coremltools", False),
        "coreml_predictions": ok.get("coremltools", False) and platform.system() == "Darwin",
        "triton_ska": ok.get("triton", False) and cuda,
        "export_openvino": ok.get("openvino", False) and ok.get("onnx", False),
        "export_openvino_int8": ok.get("openvino", False) and ok.get("onnx", False) and ok.get("nncf", False),
        "run_openvino": ok.get("openvino", False),
        "export_litert": ok.get("litert-torch", False),
        "run_litert": ok.get("LiteRT runtime", False),
        "export_executorch": ok.get("executorch", False),
        "run_executorch": ok.get("executorch", False),
        "export_ncnn": ok.get("pnnx", False) and ok.get("ncnn", False),
        "run_ncnn": ok.get("ncnn", False),
        "export_mnn": ok.get("MNN", False) and ok.get("onnx", False),
        "run_mnn": ok.get("MNN", False),
    }


def report() -> dict[str, Any]:
    """The whole report as plain data (what ``--json`` prints)."""
    from lsnet import __version__

    torch = torch_info()
    comps = components(torch["cuda_available"])
    return {
        "lsnet": __version__,
        "python": python_info(),
        "torch": torch,
        "gpus": gpus(),
        "components": [asdict(c) for c in comps],
        "capabilities": capabilities(comps, torch["cuda_available"]),
    }


def print_report(data: dict[str, Any]) -> None:
    """Rich tables: the machine, then every component with its install command when missing."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    torch = data["torch"]
    console.print(f"lsnet {data['lsnet']}  Python {data['python']['version']}  ({data['python']['platform']})")
    console.print(f"PyTorch {torch['version']} ({torch['build']} build), CUDA available: {torch['cuda_available']}")
    if data["gpus"]:
        table = Table(title="GPUs")
        for column in ("index", "name", "memory", "compute capability", "driver"):
            table.add_column(column)
        for gpu in data["gpus"]:
            table.add_row(str(gpu["index"]), gpu["name"], f"{gpu['memory_gib']} GiB", gpu["compute_capability"], gpu["driver"] or "?")
        console.print(table)
    else:
        console.print("GPUs: none visible to PyTorch")
    table = Table(title="Components")
    for column in ("component", "status", "version", "what it gives / why not"):
        table.add_column(column)
    for comp in data["components"]:
        status = "[green]ok[/green]" if comp["available"] else "[red]missing[/red]"
        table.add_row(escape(comp["name"]), status, escape(comp["version"] or "-"), escape(comp["detail"]))
    console.print(table)
    can = [name for name, ok in data["capabilities"].items() if ok]
    cannot = [name for name, ok in data["capabilities"].items() if not ok]
    console.print(f"can: {', '.join(can)}")
    if cannot:
        console.print(f"cannot: {', '.join(cannot)}")
    fixes = [c for c in data["components"] if c["install"]]
    if fixes:
        console.print("to enable the missing pieces:")
        for comp in fixes:
            console.print(f"  {escape(comp['name'])}: {escape(comp['install'])}", soft_wrap=True)


def doctor(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Show what this machine can do: PyTorch build, GPUs, ONNX Runtime, TensorRT, Core ML, Triton, OpenVINO, LiteRT, ExecuTorch, ncnn, MNN."""
    data = report()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        print_report(data)
