"""Building blocks of LSNet, named as in the official checkpoints so they load unchanged."""
import torch
from torch import nn

from lsnet.fusion import fuse_bn_into_linear, fuse_conv_bn
from lsnet.ska import SKA


class Conv2dBN(nn.Module):
    """Conv2d without bias followed by BatchNorm2d (official ``Conv2d_BN``: keys ``c``, ``bn``)."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bn_weight_init: float = 1.0,
    ) -> None:
        super().__init__()
        self.c = nn.Conv2d(in_chs, out_chs, kernel_size, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_chs)
        nn.init.constant_(self.bn.weight, bn_weight_init)
        nn.init.zeros_(self.bn.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.c(x))

    def fuse(self) -> nn.Conv2d:
        """One Conv2d with bias equal to this conv followed by the BN in eval mode."""
        conv = self.c
        fused = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            groups=conv.groups, bias=True, device=conv.weight.device, dtype=conv.weight.dtype,
        )
        weight, bias = fuse_conv_bn(conv.weight, None, self.bn)
        fused.weight.data.copy_(weight)
        fused.bias.data.copy_(bias)
        return fused


class BNLinear(nn.Module):
    """BatchNorm1d followed by Linear (official ``BN_Linear``: keys ``bn``, ``l``)."""

    def __init__(self, in_features: int, out_features: int, std: float = 0.02) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(in_features)
        self.l = nn.Linear(in_features, out_features)
        nn.init.trunc_normal_(self.l.weight, std=std)
        nn.init.zeros_(self.l.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l(self.bn(x))

    def fuse(self) -> nn.Linear:
        """One Linear equal to BN (eval) followed by this Linear."""
        weight, bias = fuse_bn_into_linear(self.bn, self.l.weight, self.l.bias)
        fused = nn.Linear(weight.shape[1], weight.shape[0], device=weight.device, dtype=weight.dtype)
        fused.weight.data.copy_(weight)
        fused.bias.data.copy_(bias)
        return fused


class Residual(nn.Module):
    """x + m(x)."""

    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.m(x)


class RepVGGDW(nn.Module):
    """Depthwise 3x3 conv-BN + depthwise 1x1 conv-BN + identity; fuses into one 3x3 depthwise conv."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = Conv2dBN(dim, dim, 3, 1, 1, groups=dim)
        self.conv1 = Conv2dBN(dim, dim, 1, 1, 0, groups=dim)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.conv1(x) + x

    def fuse(self) -> nn.Conv2d:
        """A single 3x3 depthwise conv: the 1x1 and identity branches go into the kernel centre."""
        conv = self.conv.fuse()
        conv1 = self.conv1.fuse()
        centre = conv1.weight.data[:, :, 0, 0] + 1.0  # 1x1 branch + identity, both at the centre tap
        conv.weight.data[:, :, 1, 1] += centre
        conv.bias.data += conv1.bias.data
        return conv


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round to the nearest multiple of ``divisor`` (timm's rule with round_limit=0)."""
    return max(divisor, int(value + divisor / 2) // divisor * divisor)


class SqueezeExcite(nn.Module):
    """timm-style squeeze-excite: global mean, 1x1 reduce, ReLU, 1x1 expand, sigmoid gate."""

    def __init__(self, channels: int, rd_ratio: float = 0.25) -> None:
        super().__init__()
        rd_channels = make_divisible(channels * rd_ratio)
        self.fc1 = nn.Conv2d(channels, rd_channels, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(rd_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * scale.sigmoid()


class FFN(nn.Module):
    """1x1 expand (conv-BN), ReLU, 1x1 project (conv-BN)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.pw1 = Conv2dBN(dim, hidden)
        self.act = nn.ReLU()
        self.pw2 = Conv2dBN(hidden, dim, bn_weight_init=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw2(self.act(self.pw1(x)))


class LKP(nn.Module):
    """Large-kernel perception: predicts per-pixel KxK SKA weights for dim/groups weight groups.

    Returns the flat (N, G*K*K, H, W) weights; channel ``g*K*K + t`` is tap ``t`` of group ``g``.
    """

    def __init__(self, dim: int, large_kernel: int = 7, small_kernel: int = 3, groups: int = 8) -> None:
        super().__init__()
        half = dim // 2
        weight_groups = dim // groups
        self.cv1 = Conv2dBN(dim, half)
        self.act = nn.ReLU()
        self.cv2 = Conv2dBN(half, half, large_kernel, padding=(large_kernel - 1) // 2, groups=half)
        self.cv3 = Conv2dBN(half, half)
        self.cv4 = nn.Conv2d(half, small_kernel * small_kernel * weight_groups, kernel_size=1)
        self.norm = nn.GroupNorm(num_groups=weight_groups, num_channels=small_kernel * small_kernel * weight_groups)
        self.small_kernel = small_kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.cv3(self.cv2(self.act(self.cv1(x)))))
        return self.norm(self.cv4(x))


class LSConv(nn.Module):
    """LS convolution: BN(SKA(x, LKP(x))) + x ("see large" with LKP, "focus small" with SKA)."""

    def __init__(self, dim: int, ska_impl: str = "reference") -> None:
        super().__init__()
        self.lkp = LKP(dim, large_kernel=7, small_kernel=3, groups=8)
        self.ska = SKA(kernel_size=3, impl=ska_impl)
        self.bn = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.ska(x, self.lkp(x))) + x
