"""``lsnet doctor``: runs anywhere, reports every component, and gives the install command for missing ones."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli_helpers import run_cli
from lsnet.commands import doctor
from lsnet.deps import try_import

COMPONENTS = {"PyTorch CUDA", "onnx", "onnxslim", "onnxruntime", "TensorRT", "coremltools", "triton", "openvino",
              "nncf", "LiteRT runtime", "litert-torch", "executorch", "ncnn", "pnnx", "MNN"}
CAPABILITIES = {"pytorch_cpu", "pytorch_cuda", "export_onnx", "run_onnx_cpu", "run_onnx_cuda", "export_tensorrt",
                "run_tensorrt", "export_coreml", "coreml_predictions", "triton_ska", "export_openvino", "export_openvino_int8",
                "run_openvino", "export_litert", "run_litert", "export_executorch", "run_executorch", "export_ncnn", "run_ncnn",
                "export_mnn", "run_mnn"}


@pytest.fixture(scope="module")
def doctor_json() -> dict:
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_json_report_has_every_section(doctor_json: dict) -> None:
    assert {"lsnet", "python", "torch", "gpus", "components", "capabilities"} <= set(doctor_json)
    assert {"version", "build", "cuda_available"} <= set(doctor_json["torch"])
    assert COMPONENTS <= {c["name"] for c in doctor_json["components"]}
    assert set(doctor_json["capabilities"]) == CAPABILITIES
    for comp in doctor_json["components"]:
        assert set(comp) == {"name", "available", "version", "detail", "install"}
        assert comp["available"] or comp["install"], comp  # every missing piece says how to get it
    for gpu in doctor_json["gpus"]:
        assert {"name", "memory_gib", "compute_capability", "driver"} <= set(gpu)


def test_json_report_matches_this_machine(doctor_json: dict) -> None:
    import torch

    assert doctor_json["torch"]["version"] == torch.__version__
    assert doctor_json["torch"]["cuda_available"] == torch.cuda.is_available()
    assert len(doctor_json["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    by_name = {c["name"]: c for c in doctor_json["components"]}
    assert by_name["onnx"]["available"] == (try_import("onnx")[0] is not None)
    assert by_name["TensorRT"]["available"] == (try_import("tensorrt")[0] is not None and torch.cuda.is_available())
    assert doctor_json["capabilities"]["triton_ska"] == (by_name["triton"]["available"] and torch.cuda.is_available())


def test_table_report() -> None:
    proc = run_cli("doctor")
    assert proc.returncode == 0, proc.stderr
    for word in ("PyTorch", "Components", "TensorRT", "onnxruntime", "coremltools", "triton", "can:"):
        assert word in proc.stdout
    assert "Traceback" not in proc.stderr


def test_missing_pieces_get_their_install_command(monkeypatch) -> None:
    missing = {"onnx", "onnxslim", "onnxruntime", "tensorrt", "coremltools", "triton", "openvino", "ai_edge_litert.interpreter",
               "ncnn"}
    monkeypatch.setattr(doctor, "try_import", lambda name: (None, "not installed") if name in missing else try_import(name))
    monkeypatch.setattr(doctor, "distribution", lambda name: (None, "not installed"))
    comps = {c.name: c for c in doctor.components(cuda=True)}
    assert comps["onnx"].install == comps["onnxruntime"].install == 'pip install "lsnet[onnx]"'
    assert comps["TensorRT"].install.startswith('pip install "lsnet[trt]"') and "NVIDIA" in comps["TensorRT"].install
    assert comps["coremltools"].install == 'pip install "lsnet[coreml]"'
    assert comps["triton"].install == 'pip install "lsnet[triton-kernel]"'
    assert comps["openvino"].install == 'pip install "lsnet[openvino]"'
    assert comps["nncf"].install == 'pip install "lsnet[openvino-int8]"'
    assert comps["LiteRT runtime"].install == comps["litert-torch"].install == 'pip install "lsnet[litert]"'
    assert comps["executorch"].install == 'pip install "lsnet[executorch]"'
    assert comps["ncnn"].install == comps["pnnx"].install == 'pip install "lsnet[ncnn]"'
    assert comps["MNN"].install == 'pip install "lsnet[mnn]"'
    assert not any(c.available for name, c in comps.items() if name != "PyTorch CUDA")
    caps = doctor.capabilities(list(comps.values()), cuda=True)
    assert not caps["export_onnx"] and not caps["export_tensorrt"] and not caps["triton_ska"] and caps["pytorch_cuda"]


def test_triton_ska_needs_cuda(monkeypatch) -> None:
    fake = SimpleNamespace(__version__="1.0", get_available_providers=lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(doctor, "try_import", lambda name: (fake, None))
    comps = doctor.components(cuda=False)
    triton = next(c for c in comps if c.name == "triton")
    assert "needs a CUDA GPU" in triton.detail
    assert not doctor.capabilities(comps, cuda=False)["triton_ska"]
    assert doctor.capabilities(doctor.components(cuda=True), cuda=True)["triton_ska"]


def test_broken_install_is_reported_not_raised(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "lsnet_broken_backend"
    package.mkdir()
    (package / "__init__.py").write_text("raise OSError('libnvinfer.so.10: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module, why = try_import("lsnet_broken_backend")
    assert module is None and "OSError" in why and "libnvinfer" in why
