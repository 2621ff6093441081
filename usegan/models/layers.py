"""Small building blocks shared by the generators and discriminators."""

from __future__ import annotations

from torch import nn

NORMS = ("instance", "batch", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """Normalisation by name: ``instance`` (pix2pixHD's default), ``batch`` or ``none``."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


def conv_block(in_ch: int, out_ch: int, kernel: int, stride: int, norm: str, act: nn.Module | None) -> nn.Sequential:
    """Reflection-padded conv -> norm -> activation."""
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(kernel // 2) if stride == 1 else nn.ZeroPad2d(kernel // 2),
        nn.Conv2d(in_ch, out_ch, kernel, stride=stride, bias=norm != "batch"),
        norm_layer(norm, out_ch),
    ]
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``x + conv-norm-relu-conv-norm(x)`` at constant channels and size (pix2pixHD / Johnson et al. 2016)."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_block(channels, channels, 3, 1, norm, nn.ReLU(inplace=True)),
            conv_block(channels, channels, 3, 1, norm, None),
        )

    def forward(self, x):
        return x + self.body(x)


class UpBlock(nn.Module):
    """Nearest-neighbour x2 upsampling then conv-norm-relu (avoids transposed-conv checkerboards; Odena 2016)."""

    def __init__(self, in_ch: int, out_ch: int, norm: str) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = conv_block(in_ch, out_ch, 3, 1, norm, nn.ReLU(inplace=True))

    def forward(self, x):
        return self.conv(self.up(x))
