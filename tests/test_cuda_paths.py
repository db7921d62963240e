"""The CUDA code paths: SKA formulations and runner modes on a GPU (``gpu``), and the control flow of
their fixes on CPU with fakes (Triton launches and CUDA-graph capture on the tensors' GPU, ORT's silent
CPU fallback refused, ORT I/O binding outputs synchronized, conv_im2col's one-hot weights cached on the GPU)."""
import contextlib
import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lsnet.errors import DeviceUnavailableError

HAS_CUDA = torch.cuda.is_available()
cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs an NVIDIA GPU with a CUDA build of PyTorch")


def test_triton_launch_makes_the_tensors_gpu_current(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("triton", reason="triton is not installed: pip install \"lsnet[triton-kernel]\"")
    from lsnet.ska import triton_kernel

    entered = []
    monkeypatch.setattr(torch.cuda, "device", lambda device: entered.append(device) or contextlib.nullcontext())
    on_second_gpu = SimpleNamespace(device=torch.device("cuda", 1))
    with triton_kernel.device_of(on_second_gpu):
        pass
    assert entered == [torch.device("cuda", 1)]
    with triton_kernel.device_of(torch.zeros(1)):  # CPU tensors (the interpreter): nothing to switch
        pass
    assert len(entered) == 1


class FakeSession:
    """An InferenceSession stand-in that reports the providers it ended up with."""

    def __init__(self, providers: list[str]) -> None:
        self.providers = providers

    def get_providers(self) -> list[str]:
        return self.providers


def test_ort_cuda_session_that_fell_back_to_cpu_is_refused(tmp_path: Path) -> None:
    from lsnet.runtimes.onnxruntime_runner import check_providers

    path = tmp_path / "m.onnx"
    with pytest.raises(DeviceUnavailableError, match="could not start its CUDA provider.*fell back to CPUExecutionProvider"):
        check_providers(FakeSession(["CPUExecutionProvider"]), "cuda", path)
    check_providers(FakeSession(["CUDAExecutionProvider", "CPUExecutionProvider"]), "cuda:0", path)
    check_providers(FakeSession(["CPUExecutionProvider"]), "cpu", path)


def test_ort_runner_refuses_the_fallback_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lsnet.runtimes import onnxruntime_runner

    model = tmp_path / "m.onnx"
    model.write_bytes(b"\0")
    fake_ort = SimpleNamespace(
        get_available_providers=lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
        InferenceSession=lambda path, options, providers: FakeSession(["CPUExecutionProvider"]),
    )
    monkeypatch.setattr(onnxruntime_runner, "require", lambda *args: fake_ort)
    monkeypatch.setattr(onnxruntime_runner, "session_options", lambda *args: None)
    with pytest.raises(DeviceUnavailableError, match="could not start its CUDA provider"):
        onnxruntime_runner.OnnxRuntimeRunner(model, device="cuda")


def test_ort_io_binding_run_synchronizes_its_outputs() -> None:
    from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    calls = []
    binding = SimpleNamespace(synchronize_outputs=lambda: calls.append("sync"), get_outputs=lambda: calls.append("get") or ["out"])
    runner = OnnxRuntimeRunner.__new__(OnnxRuntimeRunner)
    runner.session = SimpleNamespace(run_with_iobinding=lambda prepared: calls.append("run"))
    assert runner.infer_native(binding) == ["out"]
    assert calls == ["run", "sync", "get"]


def test_conv_im2col_weights_are_cached_per_gpu_and_fresh_on_cpu() -> None:
    from lsnet.ska.conv_im2col import one_hot_weights

    meta = torch.device("meta")  # stands in for a GPU: any device that is not the CPU
    assert one_hot_weights(8, 3, meta, torch.float16) is one_hot_weights(8, 3, meta, torch.float16)
    assert one_hot_weights(8, 3, meta, torch.float16) is not one_hot_weights(8, 3, meta, torch.float32)
    cpu = one_hot_weights(8, 3, torch.device("cpu"), torch.float32)
    assert cpu is not one_hot_weights(8, 3, torch.device("cpu"), torch.float32)
    assert cpu.shape == (72, 1, 3, 3) and cpu.sum() == 72


def _model_and_batch(img_size: int = 224, batch: int = 4):
    from lsnet import create_model
    from lsnet.init import realistic_init

    model = realistic_init(create_model("lsnet_t", img_size=img_size), seed=0).eval()
    images = np.random.default_rng(0).standard_normal((batch, 3, img_size, img_size)).astype(np.float32)
    return model, images


@pytest.fixture(scope="module")
def fp32_reference() -> tuple[torch.nn.Module, np.ndarray, np.ndarray]:
    """lsnet_t with trained-scale weights, a batch, and its FP32 logits (reference SKA, CPU, float64 math)."""
    model, images = _model_and_batch()
    with torch.no_grad():
        logits = model.double()(torch.from_numpy(images).double()).float().numpy()
    return model.float(), images, logits


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("ska", ["reference", "shift", "unfold", "conv_im2col", "triton"])
def test_every_formulation_matches_on_cuda(fp32_reference, ska: str) -> None:
    from lsnet.bench.paper import tf32
    from lsnet.runtimes.torch_runner import TorchRunner

    model, images, expected = fp32_reference
    with tf32(False):
        got = TorchRunner(copy.deepcopy(model), "cuda", ska=ska).infer(images)
    np.testing.assert_allclose(got, expected, atol=1e-3, rtol=1e-3)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize(
    "options, atol",
    [
        (dict(channels_last=True), 1e-3),
        (dict(cuda_graph=True), 1e-3),
        (dict(cuda_graph=True, channels_last=True, autocast="fp16"), 5e-2),
        (dict(autocast="bf16"), None),
    ],
    ids=["channels_last", "cudagraph", "cudagraph+fp16+channels_last", "bf16"],
)
@pytest.mark.parametrize("ska", ["triton", "conv_im2col"])
def test_runner_modes_on_cuda(fp32_reference, ska: str, options: dict, atol: float | None) -> None:
    """The GPU run's stacked modes on both GPU-relevant formulations (conv_im2col used to copy its weights
    from the host in every forward, which a CUDA graph cannot capture)."""
    from lsnet.bench.paper import tf32
    from lsnet.runtimes.torch_runner import TorchRunner

    model, images, expected = fp32_reference
    with tf32(False):
        runner = TorchRunner(copy.deepcopy(model), "cuda", ska=ska, **options)
        got = runner.infer(images)
        again = runner.infer(images[::-1].copy())  # a CUDA graph replays with the new input
    if atol is None:
        cosine = float((got * expected).sum() / np.linalg.norm(got) / np.linalg.norm(expected))
        assert cosine > 0.999 and (got.argmax(1) == expected.argmax(1)).mean() >= 0.75
    else:
        np.testing.assert_allclose(got, expected, atol=atol, rtol=atol)
    np.testing.assert_allclose(again, got[::-1], atol=1e-5 if atol is None or atol < 1e-2 else 1e-2, rtol=1e-3)


@pytest.mark.gpu
@cuda
def test_triton_ska_on_channels_last_and_autocast_inputs() -> None:
    from lsnet.ska import ska

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 32, 14, 14, generator=gen).cuda().contiguous(memory_format=torch.channels_last)
    w = torch.randn(2, 4, 9, 14, 14, generator=gen).cuda()
    expected = ska(x.contiguous(), w, impl="reference")
    torch.testing.assert_close(ska(x, w, impl="triton"), expected, atol=1e-4, rtol=1e-4)
    with torch.autocast("cuda", dtype=torch.float16):
        half = ska(x.half(), w.half(), impl="triton")
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), expected, atol=3e-2, rtol=1e-2)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two NVIDIA GPUs")
def test_triton_ska_on_a_gpu_that_is_not_current() -> None:
    from lsnet.ska import ska

    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(1, 16, 8, 8, generator=gen), torch.randn(1, 2, 9, 8, 8, generator=gen)
    expected = ska(x, w, impl="reference")
    with torch.cuda.device(0):
        got = ska(x.to("cuda:1"), w.to("cuda:1"), impl="triton")
    assert got.device == torch.device("cuda", 1)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two NVIDIA GPUs")
def test_cuda_graph_runner_on_a_gpu_that_is_not_current() -> None:
    from lsnet.runtimes.torch_runner import TorchRunner

    model, images = _model_and_batch(img_size=64, batch=2)
    expected = TorchRunner(copy.deepcopy(model), "cpu").infer(images)
    with torch.cuda.device(0):
        got = TorchRunner(copy.deepcopy(model), "cuda:1", cuda_graph=True).infer(images)
    np.testing.assert_allclose(got, expected, atol=1e-3, rtol=1e-3)


@pytest.mark.gpu
@cuda
def test_onnxruntime_cuda_io_binding(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip(f"this onnxruntime has no CUDA provider ({', '.join(ort.get_available_providers())}): pip install onnxruntime-gpu")
    from lsnet.export import export
    from lsnet.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    path = export("lsnet_t", "onnx", output=tmp_path / "lsnet_t.onnx").path
    images = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    with OnnxRuntimeRunner(path, device="cpu") as cpu, OnnxRuntimeRunner(path, device="cuda") as gpu:
        expected = cpu.infer(images)
        (native,) = gpu.infer_native(gpu.prepare(images))
        assert native.device_name().lower() == "cuda"
        np.testing.assert_allclose(native.numpy(), expected, atol=1e-3, rtol=1e-3)


def test_cuda_graph_warms_up_and_captures_on_the_inputs_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """CapturedGraph's streams and capture are made while the input's GPU is current (fakes for torch.cuda)."""
    from lsnet.runtimes.torch_runner import CapturedGraph

    current = ["cuda:0"]
    made_on = []

    @contextlib.contextmanager
    def device(dev):
        saved, current[0] = current[0], str(dev)
        yield
        current[0] = saved

    class Stream:
        def __init__(self) -> None:
            made_on.append(("stream", current[0]))

        def wait_stream(self, other: "Stream") -> None:
            pass

    @contextlib.contextmanager
    def capture(graph):
        made_on.append(("capture", current[0]))
        yield

    monkeypatch.setattr(torch.cuda, "device", device)
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "current_stream", Stream)
    monkeypatch.setattr(torch.cuda, "stream", lambda stream: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: SimpleNamespace(replay=lambda: None))
    monkeypatch.setattr(torch.cuda, "graph", capture)
    calls = []
    graph = CapturedGraph(lambda x: calls.append(current[0]) or "logits", SimpleNamespace(device=torch.device("cuda", 1)))
    assert graph.static_output == "logits" and calls == ["cuda:1"] * (CapturedGraph.WARMUP_CALLS + 1)
    assert made_on and all(where == "cuda:1" for _, where in made_on) and ("capture", "cuda:1") in made_on
    assert current == ["cuda:0"]
