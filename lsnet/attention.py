"""Multi-head self-attention with learned relative position biases (LSNet's last stage)."""
import torch
from torch import nn

from lsnet.errors import InvalidResolutionError
from lsnet.layers import Conv2dBN

COMPUTED_BUFFER_SUFFIX = "attention_bias_idxs"  # rebuilt from the input size; official checkpoints carry it


def bias_index(height: int, width: int, table_width: int) -> torch.Tensor:
    """(H*W, H*W) indices into a bias table laid out as |dy| * table_width + |dx|.

    This equals the official first-seen offset order for a square table.
    """
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    dy = (ys[:, None] - ys[None, :]).abs()
    dx = (xs[:, None] - xs[None, :]).abs()
    return dy * table_width + dx


class Attention(nn.Module):
    """Attention over the H*W positions of a feature map; q gets a 3x3 depthwise conv first.

    The bias table holds one learned value per head for every (|dy|, |dx|) offset of the
    ``resolution`` the model was built for; inputs up to that size reuse it.
    """

    def __init__(
        self, dim: int, key_dim: int, num_heads: int, attn_ratio: float, resolution: tuple[int, int]
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.scale = key_dim**-0.5
        self.nh_kd = key_dim * num_heads
        self.d = int(attn_ratio * key_dim)
        self.dh = self.d * num_heads
        self.qkv = Conv2dBN(dim, self.dh + 2 * self.nh_kd)
        self.proj = nn.Sequential(nn.ReLU(), Conv2dBN(self.dh, dim, bn_weight_init=0.0))
        self.dw = Conv2dBN(self.nh_kd, self.nh_kd, 3, 1, 1, groups=self.nh_kd)
        self.resolution = tuple(resolution)
        rows, cols = self.resolution
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, rows * cols))
        self.register_buffer(COMPUTED_BUFFER_SUFFIX, bias_index(rows, cols, cols), persistent=False)

    def position_bias(self, height: int, width: int) -> torch.Tensor:
        """(heads, H*W, H*W) bias for an input of H x W positions."""
        if (height, width) == self.resolution:
            return self.attention_biases[:, self.attention_bias_idxs]
        rows, cols = self.resolution
        if height > rows or width > cols:
            raise InvalidResolutionError(
                f"input gives a {height}x{width} attention map but the model was built for at most "
                f"{rows}x{cols}; build it with a larger img_size (create_model(..., img_size=...) or --img-size)."
            )
        idx = bias_index(height, width, cols).to(self.attention_biases.device)
        return self.attention_biases[:, idx]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        positions = height * width
        q, k, v = self.qkv(x).split([self.nh_kd, self.nh_kd, self.dh], dim=1)
        q = self.dw(q)
        q = q.reshape(batch, self.num_heads, self.key_dim, positions)
        k = k.reshape(batch, self.num_heads, self.key_dim, positions)
        v = v.reshape(batch, self.num_heads, self.d, positions)
        attn = (q.transpose(-2, -1) @ k) * self.scale + self.position_bias(height, width)
        attn = attn.softmax(dim=-1)
        out = (v @ attn.transpose(-2, -1)).reshape(batch, self.dh, height, width)
        return self.proj(out)
