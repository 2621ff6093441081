"""Small building blocks shared by the generators and discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


# Nearest x2 then a 3x3 conv, per axis, as a stride-2 transposed conv with 4 taps (see UpBlock): transposed tap t
# (0..3) carries the sum of the 3x3 conv's taps k where _UP_TAPS[t, k] is 1. Output row 2i reads input rows i-1, i
# with weights (w0, w1 + w2); row 2i + 1 reads rows i, i+1 with (w0 + w1, w2).
_UP_TAPS = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.float32)


class UpBlock(nn.Module):
    """Nearest-neighbour x2 upsampling then conv-norm-relu (avoids transposed-conv checkerboards; Odena 2016).
    ``(B, in_ch, H, W) -> (B, out_ch, 2H, 2W)``.

    In eval mode the upsampling and the reflection-padded 3x3 conv run as one stride-2 transposed conv with a 4x4
    kernel on the edge-replicated input (its weights are sums of the conv's, made on each call): the same function,
    equal to float rounding (about 1e-7 of the output), in 4/9 of the multiply-adds, since an upsampled 3x3 window
    holds only 2x2 distinct input pixels. The reflection of the upsampled image at its border is the upsampled edge
    row, hence the replicate padding. Training runs the plain upsample + conv; the parameters are the same either way.
    """

    def __init__(self, in_ch: int, out_ch: int, norm: str) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = conv_block(in_ch, out_ch, 3, 1, norm, nn.ReLU(inplace=True))
        # a buffer, not a module-level tensor, so torch.compile's weight freezing folds the kernel into a constant;
        # not persistent, so checkpoints are unchanged
        self.register_buffer("taps", _UP_TAPS.clone(), persistent=False)

    def forward(self, x):
        if self.training:
            return self.conv(self.up(x))
        conv = self.conv[1]
        with torch.autocast(x.device.type, enabled=False):  # sum the taps in the weights' precision, not bf16
            taps = self.taps.to(conv.weight)
            weight = torch.einsum("yk,xl,oikl->ioyx", taps, taps, conv.weight)  # (in_ch, out_ch, 4, 4)
        y = F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, conv.bias, stride=2, padding=3)
        return self.conv[2:](y)

    def eval_multiply_adds(self, output_numel: int) -> int:
        """Multiply-adds of the eval-mode transposed conv for an output of ``output_numel`` elements (2x2 taps per
        output pixel and input channel; training runs the 3x3 conv module instead)."""
        conv: nn.Conv2d = self.conv[1]  # type: ignore[assignment]  # conv_block's layer order
        return output_numel * conv.in_channels * 4
