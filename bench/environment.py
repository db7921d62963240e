"""Describe the machine and software a benchmark ran on."""
import os
import platform
import shutil
import subprocess
import sys
from typing import Any

from lsnet.export.metadata import package_version

VERSIONED = ("lsnet", "torch", "numpy", "onnx", "onnxruntime", "onnxruntime-gpu", "tensorrt", "coremltools", "triton", "timm")


def cpu_model() -> str | None:
    """The CPU's marketing name from /proc/cpuinfo, sysctl (macOS) or platform."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or None


def usable_cores() -> int | None:
    """Cores this process may run on (affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count()


def nvidia_smi(index: int) -> dict[str, Any]:
    """Driver, memory and clocks of GPU ``index`` from nvidia-smi ({} when it is unavailable)."""
    if shutil.which("nvidia-smi") is None:
        return {}
    fields = ["driver_version", "memory.total", "clocks.sm", "clocks.max.sm", "clocks.mem", "power.limit"]
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--id={index}", f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [v.strip() for v in out.split(",")]
    return dict(zip(("driver", "memory_total_mib", "sm_clock_mhz", "sm_clock_max_mhz", "mem_clock_mhz", "power_limit_w"), values))


def gpu_info(device: str) -> dict[str, Any] | None:
    """Name, memory, compute capability, CUDA/cuDNN versions, driver and clocks of the CUDA device used."""
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    index = torch.device(device).index or 0
    props = torch.cuda.get_device_properties(index)
    info: dict[str, Any] = {
        "name": props.name,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "compute_capability": f"{props.major}.{props.minor}",
        "multiprocessors": props.multi_processor_count,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
    }
    info.update(nvidia_smi(index))
    return info


def describe(device: str = "cpu", threads: int | None = None) -> dict[str, Any]:
    """The ``environment`` object of a results file."""
    import torch

    cpu = cpu_model()
    cores = usable_cores()
    gpu = gpu_info(device)
    machine = gpu["name"] if gpu else f"{cpu or platform.machine()} ({cores} cores)"
    return {
        "machine": machine,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu,
        "cores": cores,
        "threads": threads or torch.get_num_threads(),
        "gpu": gpu,
        "python": platform.python_version(),
        "versions": {name: package_version(name) for name in VERSIONED},
        "hostname": platform.node(),
        "source": "lsnet bench",
    }
