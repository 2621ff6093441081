"""Render a predicted scalar map through an elastography colour map, differentiably.

The generator does not regress free RGB: it predicts the scalar the elastogram encodes (its position on the colour
map, 0 = blue end ... 1 = red end) and a per-pixel uncertainty, and this layer turns the scalar into RGB with the
colour map's own 256-entry look-up table. Between two LUT entries the colour is interpolated linearly, so the
rendering is differentiable in the scalar and GAN + L1 + Color + VGG19 act on the rendered RGB exactly as the
invention says; every rendered colour lies on the map's colour path (at inference the position is rounded to a LUT
entry, so the pixels are *exactly* LUT colours). No input can make a pixel black or gray.
"""

from __future__ import annotations

import torch

from usegan.colormaps import shared_lut

LOG_SCALE_MIN, LOG_SCALE_MAX = -9.0, 0.0  # clamp of the predicted log Laplace scale (position units)


def lut_tensor() -> torch.Tensor:
    """The colour maps' shared LUT as a ``(256, 3)`` float32 tensor in [-1, 1] (index 0 = blue end)."""
    return torch.tensor(shared_lut(), dtype=torch.float32) / 127.5 - 1.0


def render_positions(position: torch.Tensor, lut: torch.Tensor, quantise: bool = False) -> torch.Tensor:
    """Colour-map positions ``(B, 1, H, W)`` in [0, 1] -> RGB ``(B, 3, H, W)`` in [-1, 1].

    Linear interpolation between neighbouring LUT entries (differentiable in ``position``); ``quantise=True``
    rounds to the nearest entry instead (inference: every pixel is exactly a LUT colour).
    """
    if position.ndim != 4 or position.shape[1] != 1:
        raise ValueError(f"expected positions (B, 1, H, W), got {tuple(position.shape)}")
    n = lut.shape[0]
    pos = position.float().clamp(0.0, 1.0)[:, 0] * (n - 1)  # (B, H, W)
    if quantise:
        rgb = lut[pos.round().long()]
    else:
        lower = pos.floor().clamp(max=n - 2)
        frac = (pos - lower)[..., None]
        index = lower.long()
        rgb = lut[index] * (1.0 - frac) + lut[index + 1] * frac
    return rgb.permute(0, 3, 1, 2).contiguous()


def split_head(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Head output ``(B, 2, H, W)`` -> ``(position (B, 1, H, W) in [0, 1], log_scale (B, 1, H, W))``.

    ``log_scale`` is the log of a Laplace scale ``b`` in position units: the predicted absolute error of the
    position has expectation ``b``; its standard deviation is ``sqrt(2) b``.
    """
    raw = raw.float()
    return torch.sigmoid(raw[:, :1]), raw[:, 1:2].clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)


def finish_output(raw: torch.Tensor, output: str, lut: torch.Tensor | None, with_scalar: bool, quantise: bool):
    """A head's raw output -> RGB (and, with ``with_scalar``, ``(rgb, position, log_scale)``); shared by the
    generators. The free-RGB head has no scalar: position and log scale are ``None``."""
    if output == "rgb":
        return (raw, None, None) if with_scalar else raw
    position, log_scale = split_head(raw)
    rgb = render_positions(position, lut, quantise=quantise)
    return (rgb, position, log_scale) if with_scalar else rgb
