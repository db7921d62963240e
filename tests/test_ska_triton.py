"""The Triton SKA kernels against the reference formulation (values and gradients).

Triton's interpreter must be switched on before triton is imported, so the kernel checks run in a
child pytest with TRITON_INTERPRET=1 (``test_kernels_under_interpreter``); inside it, the
``interpreted`` tests below run on CPU tensors. The ``gpu`` tests compile the kernels for CUDA.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lsnet.ska import ska

REPO = Path(__file__).resolve().parents[1]
INTERPRETER = os.environ.get("TRITON_INTERPRET") == "1"
HAS_CUDA = torch.cuda.is_available()

interpreted = pytest.mark.skipif(
    not INTERPRETER, reason="runs in the TRITON_INTERPRET=1 child started by test_kernels_under_interpreter"
)
cuda = pytest.mark.skipif(not HAS_CUDA or INTERPRETER, reason="needs an NVIDIA GPU with a CUDA build of PyTorch")

# (N, C, G, K, H, W): odd/even sides, G = C (depthwise-like), G = 1, R = C/G not a power of two, K = 1..7
SHAPES = [
    (2, 16, 2, 3, 7, 6),
    (1, 24, 8, 3, 8, 8),
    (3, 6, 3, 5, 5, 9),
    (2, 12, 12, 3, 4, 5),
    (1, 20, 1, 3, 6, 3),
    (2, 8, 4, 1, 3, 4),
    (1, 12, 4, 7, 7, 6),
    (2, 36, 2, 3, 9, 8),  # R = 18 > one channel block (16), H*W = 72 > one position block (32)
]


def _operands(shape, dtype, device="cpu", seed=0):
    n, c, g, k, h, w = shape
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    wt = torch.randn(n, g, k * k, h, w, generator=gen, dtype=torch.float64)
    return x.to(device, dtype).requires_grad_(), wt.to(device, dtype).requires_grad_()


def _reference_with_grads(x, w, grad_out):
    """Reference output and gradients in float64 on CPU."""
    xr = x.detach().cpu().double().requires_grad_()
    wr = w.detach().cpu().double().requires_grad_()
    out = ska(xr, wr, impl="reference")
    gx, gw = torch.autograd.grad(out, (xr, wr), grad_out.detach().cpu().double())
    return out.detach(), gx, gw


def _check_against_reference(shape, dtype, device, atol, rtol):
    x, w = _operands(shape, dtype, device)
    out = ska(x, w, impl="triton")
    assert out.dtype == dtype and out.shape == x.shape and out.device == x.device
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(device, dtype)
    gx, gw = torch.autograd.grad(out, (x, w), grad_out)
    ref, ref_gx, ref_gw = _reference_with_grads(x, w, grad_out)
    torch.testing.assert_close(out.cpu().double(), ref, atol=atol, rtol=rtol)
    torch.testing.assert_close(gx.cpu().double(), ref_gx, atol=atol, rtol=rtol)
    torch.testing.assert_close(gw.cpu().double(), ref_gw, atol=atol * 4, rtol=rtol)  # sums over C/G channels


@pytest.mark.skipif(INTERPRETER, reason="this is the parent of the interpreter run")
def test_kernels_under_interpreter() -> None:
    """Run this file's interpreted tests in a child process with TRITON_INTERPRET=1 set before triton loads."""
    pytest.importorskip("triton", reason="triton is not installed: pip install \"lsnet[triton-kernel]\"")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not gpu", __file__],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary, proc.stdout[-2000:]


@pytest.mark.skipif(INTERPRETER, reason="checks the behaviour without the interpreter")
def test_import_lsnet_does_not_import_triton() -> None:
    code = "import sys, lsnet, lsnet.ska; lsnet.create_model('lsnet_t'); assert 'triton' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)


def test_registered_for_cuda_only() -> None:
    import lsnet

    assert "triton" in lsnet.list_ska() and "triton" in lsnet.list_ska(device="cuda")
    assert "triton" not in lsnet.list_ska(device="cpu") and "reference" in lsnet.list_ska(device="cpu")


@pytest.mark.skipif(INTERPRETER or HAS_CUDA, reason="checks the CPU refusal without the interpreter")
def test_cpu_tensors_are_refused_without_interpreter() -> None:
    pytest.importorskip("triton", reason="triton is not installed")
    from lsnet.errors import DeviceUnavailableError

    x, w = _operands((1, 8, 1, 3, 4, 4), torch.float32)
    with pytest.raises(DeviceUnavailableError, match="needs a CUDA GPU.*TRITON_INTERPRET=1"):
        ska(x, w, impl="triton")


@pytest.mark.skipif(INTERPRETER, reason="compiles the real GPU kernels (not the interpreted ones)")
@pytest.mark.filterwarnings("ignore:TRITON_DEFAULT_FP_FUSION")
@pytest.mark.parametrize(("arch", "dtype", "kernel_size"), [(90, torch.float16, 3), (80, torch.float32, 5), (80, torch.bfloat16, 3)])
def test_kernels_compile_for_nvidia_gpus(arch: int, dtype: torch.dtype, kernel_size: int) -> None:
    """Ahead-of-time compilation to PTX and a cubin (Triton's bundled ptxas) needs no GPU."""
    pytest.importorskip("triton", reason="triton is not installed")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from lsnet.ska import triton_kernel as tk

    pointer = {torch.float16: "*fp16", torch.float32: "*fp32", torch.bfloat16: "*bf16"}[dtype]
    constants = tk.launch_constants(8, 28 * 28, kernel_size, dtype)  # LSNet: C/G = 8 channels per group
    for kernel in (tk._ska_fwd_kernel, tk._ska_bwd_x_kernel, tk._ska_bwd_w_kernel):
        signature = {p.name: "constexpr" if p.is_constexpr else pointer if p.name.endswith("_ptr") else "i32" for p in kernel.params}
        try:
            compiled = triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=constants),
                                      target=GPUTarget("cuda", arch, 32), options={"num_warps": tk.NUM_WARPS})
        except RuntimeError as exc:  # no usable ptxas in this triton install
            if "ptxas" in str(exc).lower():
                pytest.skip(f"triton cannot run ptxas here: {exc}")
            raise
        assert compiled.asm["ptx"] and compiled.asm["cubin"], kernel


@interpreted
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}C{}G{}K{}H{}W{}".format(*s))
def test_float32_matches_reference(shape) -> None:
    _check_against_reference(shape, torch.float32, "cpu", atol=1e-5, rtol=1e-5)


@interpreted
@pytest.mark.parametrize("shape", SHAPES[:3], ids=lambda s: "N{}C{}G{}K{}H{}W{}".format(*s))
def test_float16_accumulates_in_float32(shape) -> None:
    # fp16 inputs, fp32 accumulation: only the final rounding (and input rounding) differs
    _check_against_reference(shape, torch.float16, "cpu", atol=2e-2, rtol=1e-2)


@interpreted
def test_conformance_fixture(conformance_dir: Path) -> None:
    with np.load(conformance_dir / "ska.npz") as data:
        x, w, expected, k = (data[key] for key in ("x", "w", "out", "K"))
    assert w.shape[2] == int(k) ** 2
    out64 = ska(torch.from_numpy(x), torch.from_numpy(w), impl="triton")
    np.testing.assert_allclose(out64.numpy(), expected, rtol=1e-12, atol=1e-12)
    out32 = ska(torch.from_numpy(x).float(), torch.from_numpy(w).float(), impl="triton")
    np.testing.assert_allclose(out32.numpy(), expected, rtol=1e-4, atol=1e-4)
    xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    grad_out = torch.randn(xt.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    gx, gw = torch.autograd.grad(ska(xt, wt, impl="triton"), (xt, wt), grad_out)
    _, ref_gx, ref_gw = _reference_with_grads(xt, wt, grad_out)
    torch.testing.assert_close(gx, ref_gx, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gw, ref_gw, rtol=1e-12, atol=1e-12)


@interpreted
def test_non_contiguous_and_mixed_dtype_operands() -> None:
    x, w = _operands((2, 16, 2, 3, 6, 7), torch.float32)
    x_nc = x.detach().permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)  # same values, other strides
    assert not x_nc.is_contiguous()
    expected = ska(x.detach(), w.detach(), impl="reference")
    torch.testing.assert_close(ska(x_nc, w.detach(), impl="triton"), expected, atol=1e-5, rtol=1e-5)
    mixed = ska(x.detach().half(), w.detach(), impl="triton")  # promoted to float32
    assert mixed.dtype == torch.float32


@interpreted
def test_only_requested_gradients_are_computed() -> None:
    x, w = _operands((1, 8, 2, 3, 5, 5), torch.float32)
    (gx,) = torch.autograd.grad(ska(x, w.detach(), impl="triton").sum(), (x,))
    _, ref_gx, _ = _reference_with_grads(x, w, torch.ones_like(x))
    torch.testing.assert_close(gx.double(), ref_gx, atol=1e-5, rtol=1e-5)


@interpreted
def test_whole_model_with_triton_ska() -> None:
    from lsnet import create_model, set_ska

    torch.manual_seed(0)
    model = create_model("lsnet_t", img_size=64)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        got = set_ska(model, "triton")(x)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@interpreted
def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot share"):
        ska(torch.zeros(1, 10, 4, 4), torch.zeros(1, 4, 9, 4, 4), impl="triton")


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("shape", [*SHAPES, (8, 128, 16, 3, 28, 28), (4, 384, 48, 3, 7, 7)])
def test_cuda_matches_reference(shape, dtype) -> None:
    tol = {torch.float32: dict(atol=1e-4, rtol=1e-4), torch.float16: dict(atol=3e-2, rtol=1e-2),
           torch.bfloat16: dict(atol=2.5e-1, rtol=5e-2)}[dtype]  # low-precision inputs, fp32 accumulation
    _check_against_reference(shape, dtype, "cuda", **tol)


@pytest.mark.gpu
@cuda
def test_cuda_model_gradcheck_and_model_parity() -> None:
    from lsnet import create_model, set_ska

    x, w = _operands((1, 8, 2, 3, 5, 4), torch.float64, "cuda")
    assert torch.autograd.gradcheck(lambda a, b: ska(a, b, impl="triton"), (x, w))
    torch.manual_seed(0)
    model = create_model("lsnet_t").cuda()
    batch = torch.randn(4, 3, 224, 224, device="cuda")
    with torch.no_grad():
        expected = model(batch)
        got = set_ska(model, "triton")(batch)
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-3)
