"""The USE-GAN generator, in the invention's order:

7x7 stem -> spatial attention -> 3 stride-2 down-sampling stages -> 6 residual blocks -> 3 up-sampling stages ->
channel attention -> 7x7 output conv -> colour-map rendering.

The output conv predicts two maps: the elastogram's scalar as a position on the colour map (sigmoid, 0 = blue end,
1 = red end; strain: normalised strain, SWE: kPa / scale maximum) and its uncertainty (log Laplace scale). The RGB
elastogram is rendered from the position through the mode's look-up table (:mod:`usegan.models.colormap_render`),
so every generated pixel is a colour of the map whatever the input. ``output="rgb"`` keeps the free-RGB tanh head
of the first checkpoints, for the ablation only (inference refuses it).

The body (3 down / N residual / 3 up) is pix2pixHD's global generator (Wang et al. 2018); the attention modules are
CBAM's (see :mod:`usegan.models.attention`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from usegan.configs import config_from_dict
from usegan.models.attention import ChannelAttention, SpatialAttention
from usegan.models.colormap_render import finish_output, lut_tensor
from usegan.models.layers import NORMS, ResidualBlock, UpBlock, conv_block

OUTPUTS = ("colormap", "rgb")


@dataclass(frozen=True)
class GeneratorConfig:
    in_channels: int = 1  # gray B-mode
    out_channels: int = 3  # RGB elastogram
    base_channels: int = 16  # channels after the stem; doubled at each down-sampling stage
    n_down: int = 3  # stride-2 down-sampling stages (and as many up-sampling stages)
    n_res_blocks: int = 6  # residual blocks at the bottleneck
    norm: str = "instance"  # "instance" | "batch" | "none"
    attention_reduction: int = 8  # channel-attention MLP reduction ratio (CBAM's r)
    spatial_kernel: int = 7  # spatial-attention conv kernel (CBAM uses 7)
    use_attention: bool = True  # False replaces both attention modules by identity (ablation)
    image_size: int = 256  # side of the square input the model runs at (training may use smaller patches)
    output: str = "colormap"  # "colormap": scalar + uncertainty rendered through the LUT; "rgb": free RGB (ablation)

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        for name in ("in_channels", "out_channels", "base_channels", "n_down", "image_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.n_res_blocks < 0:
            raise ValueError(f"n_res_blocks must be >= 0, got {self.n_res_blocks}")
        if self.image_size % self.multiple:
            raise ValueError(f"image_size must be a multiple of {self.multiple}, got {self.image_size}")

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (``2 ** n_down``)."""
        return 2**self.n_down

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorConfig:
        return config_from_dict(cls, data, "generator")


class USEGANGenerator(nn.Module):
    """B-mode ``(B, in_channels, H, W)`` in [-1, 1] -> elastogram ``(B, 3, H, W)`` in [-1, 1].

    H and W must be multiples of ``2 ** n_down`` (8 by default). The named children run in this order:
    ``stem, spatial_attention, down1..down3, res1..res6, up1..up3, channel_attention, head``; with
    ``output="colormap"`` the head's two maps are then rendered through the colour map (see the module docstring).
    ``forward(bmode, with_scalar=True)`` also returns the position ``(B, 1, H, W)`` in [0, 1] and the log scale
    ``(B, 1, H, W)``.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or GeneratorConfig()
        ch = config.base_channels
        self.stem = conv_block(config.in_channels, ch, 7, 1, config.norm, nn.ReLU(inplace=True))
        self.spatial_attention = SpatialAttention(config.spatial_kernel) if config.use_attention else nn.Identity()
        for i in range(config.n_down):
            self.add_module(f"down{i + 1}", conv_block(ch, ch * 2, 3, 2, config.norm, nn.ReLU(inplace=True)))
            ch *= 2
        for i in range(config.n_res_blocks):
            self.add_module(f"res{i + 1}", ResidualBlock(ch, config.norm))
        for i in range(config.n_down):
            self.add_module(f"up{i + 1}", UpBlock(ch, ch // 2, config.norm))
            ch //= 2
        self.channel_attention = (
            ChannelAttention(ch, config.attention_reduction) if config.use_attention else nn.Identity()
        )
        if config.output == "colormap":
            self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ch, 2, 7))
            # the LUT comes from the code, not the checkpoint (non-persistent buffer)
            self.register_buffer("lut", lut_tensor(), persistent=False)
        else:
            self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ch, config.out_channels, 7), nn.Tanh())

    def forward(self, bmode: torch.Tensor, with_scalar: bool = False, quantise: bool = False):
        """1. check the input size; 2. run every stage in order (see the class docstring: :meth:`encode`, then
        :meth:`decode`); 3. render the predicted position through the colour map (``quantise``: nearest LUT entry,
        for inference)."""
        return self.decode(self.encode(bmode), with_scalar, quantise)

    def _stages(self) -> tuple[list[nn.Module], list[nn.Module]]:
        """The named children split after the last residual block: (encoder stages, decoder stages)."""
        stages = list(self.children())
        cut = 1 + self.config.n_down + self.config.n_res_blocks + 1  # stem, spatial attention, downs, residuals
        return stages[:cut], stages[cut:]

    def encode(self, bmode: torch.Tensor) -> torch.Tensor:
        """Stem to the last residual block: ``(B, in_channels, H, W)`` -> bottleneck features
        ``(B, base_channels * 2 ** n_down, H / 2 ** n_down, W / 2 ** n_down)`` (what feature-level domain adaptation,
        :mod:`usegan.models.domain`, aligns)."""
        if bmode.ndim != 4 or bmode.shape[1] != self.config.in_channels:
            raise ValueError(f"expected input (B, {self.config.in_channels}, H, W), got {tuple(bmode.shape)}")
        h, w = bmode.shape[-2:]
        m = self.config.multiple
        if h % m or w % m:
            raise ValueError(f"image side must be a multiple of {m}, got {h}x{w}")
        x = bmode
        for module in self._stages()[0]:
            x = module(x)
        return x

    def decode(self, features: torch.Tensor, with_scalar: bool = False, quantise: bool = False):
        """Bottleneck features (:meth:`encode`) -> the elastogram, as :meth:`forward` returns it."""
        x = features
        for module in self._stages()[1]:
            x = module(x)
        return finish_output(x, self.config.output, getattr(self, "lut", None), with_scalar, quantise)
