"""TorchRunner modes the harness benchmarks: autocast, channels_last, CUDA graphs (GPU only)."""
import numpy as np
import pytest
import torch

from lsnet.errors import UnknownOptionError
from lsnet.runtimes.torch_runner import TorchRunner


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)


@pytest.fixture(scope="module")
def eager_logits(batch: np.ndarray) -> np.ndarray:
    torch.manual_seed(0)
    return TorchRunner("lsnet_t", img_size=64).infer(batch)


def test_bf16_autocast_keeps_fp32_weights_and_stays_close(batch: np.ndarray, eager_logits: np.ndarray) -> None:
    torch.manual_seed(0)
    runner = TorchRunner("lsnet_t", img_size=64, autocast="bf16")
    assert runner.info.precision == "bf16-autocast"
    assert next(runner.model.parameters()).dtype == torch.float32
    out = runner.infer(batch)
    assert out.dtype == np.float32 and out.shape == eager_logits.shape
    cosine = float((out * eager_logits).sum() / np.linalg.norm(out) / np.linalg.norm(eager_logits))
    assert cosine > 0.99


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(autocast="fp32"), "autocast"),
        (dict(autocast="fp16", precision="fp16"), "autocast"),
        (dict(cuda_graph=True, compile=True), "not both"),
        (dict(cuda_graph=True), "need --device cuda"),
    ],
)
def test_invalid_mode_combinations(options: dict, message: str) -> None:
    with pytest.raises(UnknownOptionError, match=message):
        TorchRunner("lsnet_t", img_size=64, **options)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU with CUDA")
def test_cuda_graph_replay_matches_eager_and_follows_new_inputs(batch: np.ndarray) -> None:
    torch.manual_seed(0)
    eager = TorchRunner("lsnet_t", device="cuda", img_size=64)
    torch.manual_seed(0)
    graphed = TorchRunner("lsnet_t", device="cuda", img_size=64, cuda_graph=True)
    assert graphed.info.runtime == "pytorch-cudagraph"
    for seed in (1, 2):  # a second input of the same shape replays the same graph with new data
        x = np.random.default_rng(seed).standard_normal(batch.shape).astype(np.float32)
        np.testing.assert_allclose(graphed.infer(x), eager.infer(x), atol=1e-3, rtol=1e-3)
    assert len(graphed.graphs) == 1
    graphed.infer(batch[:1])
    assert len(graphed.graphs) == 2
