"""The LSNet network: stem (``patch_embed``), four stages (``blocks1``..``blocks4``), head.

Module names follow the official checkpoints so that they load without renaming;
``stem``, ``stages`` and ``head`` give the timm-style role view.
"""
import torch
from torch import nn

from lsnet.attention import Attention
from lsnet.config import PretrainedCfg
from lsnet.layers import FFN, BNLinear, Conv2dBN, LSConv, RepVGGDW, Residual, SqueezeExcite
from lsnet.variants import Variant


def stage_resolutions(img_size: tuple[int, int]) -> list[tuple[int, int]]:
    """Feature-map size of each stage: stride 8, then a stride-2 (pad 1, k 3) conv per stage."""
    size = (img_size[0] // 8, img_size[1] // 8)
    sizes = [size]
    for _ in range(3):
        size = ((size[0] - 1) // 2 + 1, (size[1] - 1) // 2 + 1)
        sizes.append(size)
    return sizes


class Block(nn.Module):
    """Even index: RepVGG depthwise + SE. Odd index: LS conv (stages 1-3) or attention (stage 4). Then FFN."""

    def __init__(
        self,
        dim: int,
        key_dim: int,
        num_heads: int,
        attn_ratio: float,
        resolution: tuple[int, int],
        stage: int,
        index: int,
        ska_impl: str,
    ) -> None:
        super().__init__()
        if index % 2 == 0:
            self.mixer: nn.Module = RepVGGDW(dim)
            self.se: nn.Module = SqueezeExcite(dim, 0.25)
        else:
            if stage == 3:
                self.mixer = Residual(Attention(dim, key_dim, num_heads, attn_ratio, resolution))
            else:
                self.mixer = LSConv(dim, ska_impl)
            self.se = nn.Identity()
        self.ffn = Residual(FFN(dim, 2 * dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ffn(self.se(self.mixer(x)))


class LSNet(nn.Module):
    """LSNet classifier (or backbone with ``features_only``)."""

    def __init__(
        self,
        variant: Variant,
        num_classes: int = 1000,
        img_size: tuple[int, int] = (224, 224),
        ska_impl: str = "reference",
        features_only: bool = False,
        in_chans: int = 3,
    ) -> None:
        super().__init__()
        dims = variant.embed_dim
        self.variant = variant
        self.num_classes = 0 if features_only else num_classes
        self.img_size = tuple(img_size)
        self.features_only = features_only
        self.distillation = variant.distillation
        self.num_features = dims[-1]
        self.patch_embed = nn.Sequential(
            Conv2dBN(in_chans, dims[0] // 4, 3, 2, 1), nn.ReLU(),
            Conv2dBN(dims[0] // 4, dims[0] // 2, 3, 2, 1), nn.ReLU(),
            Conv2dBN(dims[0] // 2, dims[0], 3, 2, 1),
        )
        resolutions = stage_resolutions(self.img_size)
        stages = []
        for i, (dim, depth) in enumerate(zip(dims, variant.depth)):
            stage = nn.Sequential()
            if i > 0:
                stage.append(Conv2dBN(dims[i - 1], dims[i - 1], 3, 2, 1, groups=dims[i - 1]))
                stage.append(Conv2dBN(dims[i - 1], dim, 1))
            ratio = dim / (variant.key_dim[i] * variant.num_heads[i])
            for d in range(depth):
                stage.append(Block(dim, variant.key_dim[i], variant.num_heads[i], ratio, resolutions[i], i, d, ska_impl))
            stages.append(stage)
        self.blocks1, self.blocks2, self.blocks3, self.blocks4 = stages
        self.feature_info = [
            {"num_chs": dims[i], "reduction": 8 * 2**i, "module": f"blocks{i + 1}"} for i in range(4)
        ]
        has_head = self.num_classes > 0
        self.head: nn.Module = BNLinear(dims[-1], self.num_classes) if has_head else nn.Identity()
        if self.distillation and not features_only:
            self.head_dist: nn.Module = BNLinear(dims[-1], self.num_classes) if has_head else nn.Identity()
        self.pretrained_cfg = PretrainedCfg(
            input_size=(in_chans, *self.img_size), num_classes=self.num_classes,
            labels="imagenet-1k" if self.num_classes == 1000 else None,
        )

    @property
    def stem(self) -> nn.Sequential:
        """The stride-8 convolutional stem (official name ``patch_embed``)."""
        return self.patch_embed

    @property
    def stages(self) -> tuple[nn.Sequential, ...]:
        """The four stages (official names ``blocks1``..``blocks4``)."""
        return (self.blocks1, self.blocks2, self.blocks3, self.blocks4)

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Output of every stage: strides 8, 16, 32, 64."""
        x = self.patch_embed(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The final (stride 64) feature map."""
        x = self.patch_embed(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pool, then the classifier(s); distilled heads are averaged in eval."""
        x = x.mean((2, 3))
        if pre_logits:
            return x
        if not self.distillation:
            return self.head(x)
        logits, logits_dist = self.head(x), self.head_dist(x)
        if self.training and not torch.jit.is_scripting():
            return logits, logits_dist
        return (logits + logits_dist) / 2

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        if self.features_only:
            return self.forward_stages(x)
        return self.forward_head(self.forward_features(x))
