"""Conditional PatchGAN discriminators (pix2pix), global and lesion-local (Yao et al., Nat Commun 2023).

The global discriminator sees the B-mode and the elastogram concatenated, ``(B, 1 + 3, H, W)``, and returns a
map of real/fake logits, one per ~70x70 patch with ``n_layers=3``. The local discriminator sees the same pair
cropped to each sample's lesion box and resized to ``crop_size``, so fine lesion detail is judged on its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from usegan.models.layers import norm_layer


@dataclass(frozen=True)
class DiscriminatorConfig:
    in_channels: int = 4  # B-mode (1) + elastogram (3)
    base_channels: int = 32  # pix2pix's ndf
    n_layers: int = 3  # 3 gives 70x70 receptive fields
    norm: str = "instance"  # "instance" | "batch" | "none"
    local: bool = False  # add a second discriminator on the lesion crop
    local_crop_size: int = 64  # side the lesion crop is resized to
    local_n_layers: int = 2  # layers of the local discriminator

    def to_dict(self) -> dict:
        return asdict(self)


class PatchDiscriminator(nn.Module):
    """``(B, in_channels, H, W) -> (B, 1, H', W')`` logits (no sigmoid: the GAN loss applies it)."""

    def __init__(self, in_channels: int = 4, base_channels: int = 32, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = base_channels
        for i in range(1, n_layers + 1):
            out = base_channels * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(ch, out, 4, stride, 1), norm_layer(norm, out), nn.LeakyReLU(0.2, True)]
            ch = out
        layers.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        return self.model(pair)


def crop_boxes(images: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Crop each image ``(B, C, H, W)`` to its box ``(B, 4)`` as x, y, w, h pixels and resize to ``size``.

    Boxes are clamped to the image and given at least 4x4 pixels, so an empty mask yields a small centre crop.
    """
    if boxes.shape != (images.shape[0], 4):
        raise ValueError(f"boxes must be (B, 4) with B={images.shape[0]}, got {tuple(boxes.shape)}")
    _, _, h, w = images.shape
    crops = []
    for img, (x, y, bw, bh) in zip(images, boxes.round().long().tolist(), strict=True):
        if bw < 4 or bh < 4:
            x, y, bw, bh = w // 2 - 8, h // 2 - 8, 16, 16
        x0, y0 = max(0, min(x, w - 4)), max(0, min(y, h - 4))
        x1, y1 = max(x0 + 4, min(x + bw, w)), max(y0 + 4, min(y + bh, h))
        crops.append(F.interpolate(img[None, :, y0:y1, x0:x1], size=(size, size), mode="bilinear", align_corners=False))
    return torch.cat(crops, dim=0)


def mask_to_boxes(mask: torch.Tensor, margin: float = 0.25) -> torch.Tensor:
    """Lesion masks ``(B, 1, H, W)`` -> boxes ``(B, 4)`` (x, y, w, h) around each mask, enlarged by ``margin``."""
    boxes = []
    h, w = mask.shape[-2:]
    for m in mask[:, 0] > 0.5:
        ys, xs = torch.nonzero(m, as_tuple=True)
        if len(xs) == 0:
            boxes.append([0.0, 0.0, 0.0, 0.0])
            continue
        x0, x1, y0, y1 = xs.min().item(), xs.max().item() + 1, ys.min().item(), ys.max().item() + 1
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        x0, y0, x1, y1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
        boxes.append([x0, y0, x1 - x0, y1 - y0])
    return torch.tensor(boxes, dtype=torch.float32, device=mask.device)


class USEGANDiscriminator(nn.Module):
    """The global PatchGAN and, when ``config.local``, the lesion-crop PatchGAN."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DiscriminatorConfig()
        self.global_d = PatchDiscriminator(config.in_channels, config.base_channels, config.n_layers, config.norm)
        self.local_d = (
            PatchDiscriminator(config.in_channels, config.base_channels, config.local_n_layers, config.norm)
            if config.local
            else None
        )

    def forward(self, bmode: torch.Tensor, elasto: torch.Tensor, boxes: torch.Tensor | None = None):
        """Returns a list of logit maps: ``[global]`` or ``[global, local]`` (local only when boxes are given)."""
        pair = torch.cat([bmode, elasto], dim=1)
        outputs = [self.global_d(pair)]
        if self.local_d is not None and boxes is not None:
            outputs.append(self.local_d(crop_boxes(pair, boxes, self.config.local_crop_size)))
        return outputs
