"""The "triton" SKA formulation: registered here, while triton itself is imported only on first use."""
import torch

from lsnet.deps import require
from lsnet.errors import DeviceUnavailableError
from lsnet.ska.registry import check_shapes, register_ska


def _kernels():
    """The Triton kernel module (imports triton; a missing triton gives the install hint)."""
    require("triton", "triton-kernel", "the triton SKA formulation")
    from lsnet.ska import triton_kernel

    return triton_kernel


@register_ska(
    "triton", "fused Triton GPU kernels, forward and backward (CUDA; CPU only under TRITON_INTERPRET=1)", devices=("cuda",)
)
def ska_triton(x: torch.Tensor, w_flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """SKA through the Triton kernels; differentiable with respect to x and w_flat."""
    groups = check_shapes(x, w_flat, kernel_size)
    if x.device != w_flat.device:
        raise ValueError(f"SKA operands are on different devices: x on {x.device}, w on {w_flat.device}")
    kernels = _kernels()
    if x.device.type != "cuda" and not (x.device.type == "cpu" and kernels.INTERPRETED):
        raise DeviceUnavailableError(
            f"the triton SKA formulation needs a CUDA GPU, got tensors on {x.device}: use --ska shift/reference on CPU, "
            "or set TRITON_INTERPRET=1 before starting Python to run the kernels in Triton's interpreter for testing."
        )
    dtype = torch.promote_types(x.dtype, w_flat.dtype)
    if dtype not in kernels.SUPPORTED_DTYPES:
        raise ValueError(f"the triton SKA takes float16/bfloat16/float32/float64 tensors, got {dtype}")
    return kernels.SkaFunction.apply(x.to(dtype), w_flat.to(dtype), kernel_size, groups)
