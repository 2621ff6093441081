"""The pix2pix ``unet_256`` generator (Isola et al. 2017), the baseline USE-GAN is compared with.

Eight stride-2 4x4 conv encoders (``base_channels`` x 1, 2, 4, 8, 8, 8, 8, 8) and mirrored transposed-conv decoders
with skip connections, batch norm, dropout 0.5 in the three innermost decoders, tanh output. Input sides must be
multiples of 256 (the innermost feature map is 1x1 at 256x256).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from usegan.configs import config_from_dict
from usegan.models.colormap_render import finish_output, lut_tensor


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 1  # gray B-mode
    out_channels: int = 3  # RGB elastogram
    base_channels: int = 64  # pix2pix's ngf
    n_down: int = 8  # 8 for unet_256, 7 for unet_128
    dropout: float = 0.5  # in the three innermost decoders, as in pix2pix
    image_size: int = 256  # side of the square input the model runs at
    output: str = "colormap"  # "colormap": scalar + uncertainty rendered through the LUT (as USE-GAN); "rgb": tanh

    def __post_init__(self) -> None:
        if self.output not in ("colormap", "rgb"):
            raise ValueError(f"output must be 'colormap' or 'rgb', got {self.output!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> UNetConfig:
        return config_from_dict(cls, data, "unet")


class _Level(nn.Module):
    """One U-Net level: down conv -> inner level -> up conv, concatenated with the input (skip)."""

    def __init__(
        self,
        outer: int,
        inner: int,
        submodule: nn.Module | None,
        *,
        outermost=False,
        innermost=False,
        in_channels: int | None = None,
        out_channels: int | None = None,
        dropout: float = 0.0,
        final_tanh: bool = True,
    ) -> None:
        super().__init__()
        in_channels = in_channels or outer
        down = [nn.LeakyReLU(0.2, True), nn.Conv2d(in_channels, inner, 4, 2, 1, bias=False)]
        if outermost:
            down = [nn.Conv2d(in_channels, inner, 4, 2, 1)]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, out_channels or outer, 4, 2, 1)]
            if final_tanh:
                up.append(nn.Tanh())
        elif innermost:
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
        else:
            down.append(nn.BatchNorm2d(inner))
            up = [
                nn.ReLU(True),
                nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False),
                nn.BatchNorm2d(outer),
            ]
            if dropout:
                up.append(nn.Dropout(dropout))
        self.outermost = outermost
        self.down = nn.Sequential(*down)
        self.inner = submodule if submodule is not None else nn.Identity()
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.inner(self.down(x)))
        return y if self.outermost else torch.cat([x, y], dim=1)


class UNetGenerator(nn.Module):
    """``(B, in_channels, H, W)`` in [-1, 1] -> ``(B, out_channels, H, W)`` in [-1, 1]."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or UNetConfig()
        if config.n_down < 5:
            raise ValueError(f"n_down must be >= 5, got {config.n_down}")
        ngf = config.base_channels
        level = _Level(ngf * 8, ngf * 8, None, innermost=True)
        for _ in range(config.n_down - 5):
            level = _Level(ngf * 8, ngf * 8, level, dropout=config.dropout)
        level = _Level(ngf * 4, ngf * 8, level)
        level = _Level(ngf * 2, ngf * 4, level)
        level = _Level(ngf, ngf * 2, level)
        colormap = config.output == "colormap"
        self.model = _Level(
            ngf,
            ngf,
            level,
            outermost=True,
            in_channels=config.in_channels,
            out_channels=2 if colormap else config.out_channels,
            final_tanh=not colormap,
        )
        if colormap:
            self.register_buffer("lut", lut_tensor(), persistent=False)

    def forward(self, bmode: torch.Tensor, with_scalar: bool = False, quantise: bool = False):
        m = 2**self.config.n_down
        h, w = bmode.shape[-2:]
        if h % m or w % m:
            raise ValueError(f"image side must be a multiple of {m}, got {h}x{w}")
        return finish_output(self.model(bmode), self.config.output, getattr(self, "lut", None), with_scalar, quantise)
