"""SKA as fused Triton kernels (forward and backward) with a torch.autograd.Function around them.

Layout (see ``lsnet.ska.registry``): ``x`` (N, C, H, W), ``w_flat`` (N, G*K*K, H, W) where channel
``g*K*K + t`` is tap ``t = i*K + j`` of group ``g``; input channel ``c`` uses group ``c mod G``, so
group ``g`` serves the R = C/G channels ``g, g+G, g+2G, ...``.

Every program owns one (sample n, group g) pair, a block of those R channels and a block of
flattened H*W positions. For each tap it loads the group's weight vector once and reuses it for
all channels of the block (the R channels that share it), and it loads ``x`` rows contiguous
along W, so loads are coalesced. Accumulation is in float32 (float64 for float64 inputs).

This module imports triton at import time; it is loaded lazily by ``lsnet.ska.triton_ska``.
Under ``TRITON_INTERPRET=1`` (set before triton is imported) the same kernels run on CPU tensors
through Triton's interpreter, which the tests use.
"""
import contextlib

import torch
import triton
import triton.language as tl
from triton import knobs

INTERPRETED = bool(knobs.runtime.interpret)  # kernels below are decorated in this mode

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
MAX_BLOCK_P = 256  # flattened positions per program
MAX_BLOCK_R = 16  # channels sharing one weight group per program
NUM_WARPS = 4
ELEMENTS_PER_PROGRAM = 4 * 32 * NUM_WARPS  # about four tile elements per thread


@triton.jit
def _channel_tile(C, G, R, H, W, BLOCK_R: tl.constexpr, BLOCK_P: tl.constexpr):
    """This program's (sample, group, positions, channels) tile for the kernels over group x channel blocks.

    Returns n, g, the flattened positions p with their row h and column v, p_ok, r_ok, the interleaved
    channels ``chan`` of group g in this block, and hw = H*W.
    """
    pid_p = tl.program_id(0)
    pid_gr = tl.program_id(1)
    n = tl.program_id(2).to(tl.int64)
    num_rb = tl.cdiv(R, BLOCK_R)
    g = pid_gr // num_rb
    rb = pid_gr % num_rb
    hw = H * W
    p = pid_p * BLOCK_P + tl.arange(0, BLOCK_P)
    r = rb * BLOCK_R + tl.arange(0, BLOCK_R)
    chan = g + r * G  # interleaved: the channels of group g
    return n, g, p, p // W, p % W, p < hw, r < R, chan, hw


@triton.jit
def _tap_shift(t, K: tl.constexpr):
    """(row, column) offset of tap ``t = i*K + j`` from the centre of the KxK window."""
    return t // K - (K - 1) // 2, t % K - (K - 1) // 2


@triton.jit
def _shifted(h, v, ok, di, dj, H, W):
    """Flattened position of pixel (h + di, v + dj) and whether it lies inside the HxW image (and ``ok``)."""
    hh = h + di
    vv = v + dj
    return hh * W + vv, ok & (hh >= 0) & (hh < H) & (vv >= 0) & (vv < W)


@triton.jit
def _ska_fwd_kernel(
    x_ptr, w_ptr, out_ptr,
    C, G, R, H, W,
    K: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_P: tl.constexpr, ACC: tl.constexpr, UNROLL: tl.constexpr,
):
    """out[n, g+r*G, p] = sum_t x[n, g+r*G, p + shift_t] * w[n, g*K*K+t, p]."""
    n, g, p, h, v, p_ok, r_ok, chan, hw = _channel_tile(C, G, R, H, W, BLOCK_R, BLOCK_P)
    x_rows = x_ptr + (n * C + chan.to(tl.int64))[:, None] * hw  # (BLOCK_R, 1) row starts
    w_row = w_ptr + (n * G + g) * (K * K) * hw

    acc = tl.zeros((BLOCK_R, BLOCK_P), dtype=ACC)
    for t in tl.range(K * K, loop_unroll_factor=UNROLL):
        di, dj = _tap_shift(t, K)
        src, inside = _shifted(h, v, p_ok, di, dj, H, W)
        w_t = tl.load(w_row + t * hw + p, mask=p_ok, other=0.0).to(ACC)  # once per group and tap
        x_t = tl.load(x_rows + src[None, :], mask=r_ok[:, None] & inside[None, :], other=0.0)
        acc += x_t.to(ACC) * w_t[None, :]
    out_rows = out_ptr + (n * C + chan.to(tl.int64))[:, None] * hw
    tl.store(out_rows + p[None, :], acc.to(out_ptr.dtype.element_ty), mask=r_ok[:, None] & p_ok[None, :])


@triton.jit
def _ska_bwd_x_kernel(
    go_ptr, w_ptr, gx_ptr,
    C, G, R, H, W,
    K: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_P: tl.constexpr, ACC: tl.constexpr, UNROLL: tl.constexpr,
):
    """grad_x[n, c, q] = sum_t grad_out[n, c, q - shift_t] * w[n, g*K*K+t, q - shift_t] (the transpose)."""
    n, g, q, h, v, q_ok, r_ok, chan, hw = _channel_tile(C, G, R, H, W, BLOCK_R, BLOCK_P)
    go_rows = go_ptr + (n * C + chan.to(tl.int64))[:, None] * hw
    w_row = w_ptr + (n * G + g) * (K * K) * hw

    acc = tl.zeros((BLOCK_R, BLOCK_P), dtype=ACC)
    for t in tl.range(K * K, loop_unroll_factor=UNROLL):
        di, dj = _tap_shift(t, K)
        po, inside = _shifted(h, v, q_ok, -di, -dj, H, W)  # the output pixel whose tap t reads input pixel q
        w_t = tl.load(w_row + t * hw + po, mask=inside, other=0.0).to(ACC)
        go_t = tl.load(go_rows + po[None, :], mask=r_ok[:, None] & inside[None, :], other=0.0)
        acc += go_t.to(ACC) * w_t[None, :]
    gx_rows = gx_ptr + (n * C + chan.to(tl.int64))[:, None] * hw
    tl.store(gx_rows + q[None, :], acc.to(gx_ptr.dtype.element_ty), mask=r_ok[:, None] & q_ok[None, :])


@triton.jit
def _ska_bwd_w_kernel(
    go_ptr, x_ptr, gw_ptr,
    C, G, R, H, W,
    K: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_P: tl.constexpr, ACC: tl.constexpr, UNROLL: tl.constexpr,
):
    """grad_w[n, g*K*K+t, p] = sum_r grad_out[n, g+r*G, p] * x[n, g+r*G, p + shift_t]."""
    pid_p = tl.program_id(0)
    g = tl.program_id(1)
    n = tl.program_id(2).to(tl.int64)
    hw = H * W

    p = pid_p * BLOCK_P + tl.arange(0, BLOCK_P)
    h = p // W
    v = p % W
    p_ok = p < hw
    gw_row = gw_ptr + (n * G + g) * (K * K) * hw
    for t in tl.range(K * K, loop_unroll_factor=UNROLL):
        di, dj = _tap_shift(t, K)
        src, inside = _shifted(h, v, p_ok, di, dj, H, W)
        acc = tl.zeros((BLOCK_P,), dtype=ACC)
        for r0 in range(0, R, BLOCK_R):  # usually one pass: R = C/G is 8 in LSNet
            r = r0 + tl.arange(0, BLOCK_R)
            r_ok = r < R
            rows = (n * C + (g + r * G).to(tl.int64))[:, None] * hw
            go = tl.load(go_ptr + rows + p[None, :], mask=r_ok[:, None] & p_ok[None, :], other=0.0)
            x_t = tl.load(x_ptr + rows + src[None, :], mask=r_ok[:, None] & inside[None, :], other=0.0)
            acc += tl.sum(go.to(ACC) * x_t.to(ACC), axis=0)
        tl.store(gw_row + t * hw + p, acc.to(gw_ptr.dtype.element_ty), mask=p_ok)


def launch_constants(channels_per_group: int, positions: int, kernel_size: int, dtype: torch.dtype) -> dict:
    """The kernels' compile-time constants for one problem shape and dtype.

    Tiles hold about four elements per thread: all R = C/G channels of a group when R <= 16 (so the
    weight is loaded once per group and tap) times a run of positions. Taps are unrolled for K <= 3
    (instruction-level parallelism at about 72 registers); larger kernels loop, which keeps registers
    low and occupancy high. Checked without spills with ptxas for sm_90 at K = 3, 5, 7.
    """
    block_r = min(triton.next_power_of_2(channels_per_group), MAX_BLOCK_R)
    block_p = max(16, min(MAX_BLOCK_P, triton.next_power_of_2(positions), ELEMENTS_PER_PROGRAM // block_r))
    return {
        "K": kernel_size, "BLOCK_R": block_r, "BLOCK_P": block_p, "ACC": _acc_dtype(dtype),
        "UNROLL": kernel_size * kernel_size if kernel_size <= 3 else 1,
    }


def _launch(kernel, first: torch.Tensor, second: torch.Tensor, out: torch.Tensor, x_shape: torch.Size,
            kernel_size: int, groups: int, per_channel_block: bool) -> None:
    """Launch ``kernel`` over (position blocks, group x channel blocks -- or groups --, samples)."""
    n, c, h, width = x_shape
    r = c // groups
    constants = launch_constants(r, h * width, kernel_size, first.dtype)
    channel_blocks = groups * triton.cdiv(r, constants["BLOCK_R"]) if per_channel_block else groups
    grid = (triton.cdiv(h * width, constants["BLOCK_P"]), channel_blocks, n)
    with device_of(first):
        kernel[grid](first, second, out, c, groups, r, h, width, **constants, num_warps=NUM_WARPS)


def device_of(tensor: torch.Tensor) -> contextlib.AbstractContextManager:
    """Make the tensor's GPU current for the launch: Triton launches on the current device and its stream,
    which for tensors on cuda:1 while cuda:0 is current would be the wrong GPU."""
    return torch.cuda.device(tensor.device) if tensor.device.type == "cuda" else contextlib.nullcontext()


def _acc_dtype(dtype: torch.dtype) -> tl.dtype:
    return tl.float64 if dtype == torch.float64 else tl.float32


def ska_forward(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int, groups: int) -> torch.Tensor:
    """Launch the forward kernel on contiguous operands of one dtype."""
    out = torch.empty_like(x)
    _launch(_ska_fwd_kernel, x, w_flat, out, x.shape, kernel_size, groups, per_channel_block=True)
    return out


def ska_backward_x(grad_out: torch.Tensor, w_flat: torch.Tensor, kernel_size: int, groups: int) -> torch.Tensor:
    """Gradient of SKA with respect to x."""
    grad_x = torch.empty_like(grad_out)
    _launch(_ska_bwd_x_kernel, grad_out, w_flat, grad_x, grad_out.shape, kernel_size, groups, per_channel_block=True)
    return grad_x


def ska_backward_w(grad_out: torch.Tensor, x: torch.Tensor, kernel_size: int, groups: int) -> torch.Tensor:
    """Gradient of SKA with respect to w_flat (sums over the R channels of each group inside the kernel)."""
    n, _, h, width = x.shape
    grad_w = torch.empty((n, groups * kernel_size * kernel_size, h, width), dtype=x.dtype, device=x.device)
    _launch(_ska_bwd_w_kernel, grad_out, x, grad_w, x.shape, kernel_size, groups, per_channel_block=False)
    return grad_w


class SkaFunction(torch.autograd.Function):
    """SKA with Triton forward and backward; gradients for x and w_flat."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int, groups: int) -> torch.Tensor:
        x, w_flat = x.contiguous(), w_flat.contiguous()
        ctx.save_for_backward(x, w_flat)
        ctx.kernel_size, ctx.groups = kernel_size, groups
        return ska_forward(x, w_flat, kernel_size, groups)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, w_flat = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_x = ska_backward_x(grad_out, w_flat, ctx.kernel_size, ctx.groups) if ctx.needs_input_grad[0] else None
        grad_w = ska_backward_w(grad_out, x, ctx.kernel_size, ctx.groups) if ctx.needs_input_grad[1] else None
        return grad_x, grad_w, None, None
