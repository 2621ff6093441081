"""USE-GAN's training losses: GAN + L1 + Color + VGG19 perceptual, weighted by :class:`LossWeights`.

All image tensors are ``(B, 3, H, W)`` RGB elastograms in [-1, 1] unless said otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from usegan.models.vgg import RELU_X_1, VGG19Features


@dataclass(frozen=True)
class LossWeights:
    gan: float = 1.0  # adversarial term (global + local discriminators)
    l1: float = 100.0  # per-pixel fidelity (pix2pix's lambda)
    color: float = 10.0  # colour-distribution term (blurred Lab difference)
    vgg: float = 5.0  # perceptual term (VGG19 features)
    gan_mode: str = "lsgan"  # "lsgan" (least squares) or "vanilla" (BCE with logits)

    def __post_init__(self) -> None:
        if self.gan_mode not in ("lsgan", "vanilla"):
            raise ValueError(f"gan_mode must be 'lsgan' or 'vanilla', got {self.gan_mode!r}")
        for name in ("gan", "l1", "color", "vgg"):
            if getattr(self, name) < 0:
                raise ValueError(f"loss weight {name} must be >= 0, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


class GANLoss(nn.Module):
    """Adversarial loss on discriminator logits: ``lsgan`` = MSE to 1/0 (Mao et al. 2017); ``vanilla`` = BCE."""

    def __init__(self, mode: str = "lsgan") -> None:
        super().__init__()
        if mode not in ("lsgan", "vanilla"):
            raise ValueError(f"gan mode must be 'lsgan' or 'vanilla', got {mode!r}")
        self.mode = mode

    def forward(self, logits: torch.Tensor | list[torch.Tensor], target_is_real: bool) -> torch.Tensor:
        items = logits if isinstance(logits, list | tuple) else [logits]
        total = items[0].new_zeros(())
        for pred in items:
            target = torch.full_like(pred, 1.0 if target_is_real else 0.0)
            if self.mode == "lsgan":
                total = total + F.mse_loss(pred, target)
            else:
                total = total + F.binary_cross_entropy_with_logits(pred, target)
        return total / len(items)


def rgb_to_lab_torch(rgb01: torch.Tensor) -> torch.Tensor:
    """Differentiable sRGB ``(B, 3, H, W)`` in [0, 1] -> CIE Lab (D65), L in [0, 100], a/b roughly [-128, 127]."""
    c = rgb01.clamp(0.0, 1.0)
    c = torch.where(c > 0.04045, ((c + 0.055) / 1.055).clamp_min(1e-6) ** 2.4, c / 12.92)
    m = c.new_tensor(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = torch.einsum("ij,bjhw->bihw", m, c) / c.new_tensor([0.95047, 1.0, 1.08883]).view(1, 3, 1, 1)
    eps = (6 / 29) ** 3
    f = torch.where(xyz > eps, xyz.clamp_min(eps) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], dim=1)


def gaussian_kernel(size: int = 21, sigma: float = 3.0) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps."""
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


class ColorLoss(nn.Module):
    """Colour-distribution loss: mean absolute difference of the two images in CIE Lab after a Gaussian blur.

    ``L_color = mean(|G * Lab(fake) - G * Lab(real)|) / 100`` with ``G`` a 21-tap Gaussian, sigma 3 (DPED,
    Ignatov et al. 2017, who blur RGB). Why this form:

    * the blur removes high-frequency texture, so the loss measures *which colours sit where* (the stiffness the
      elastogram encodes) and ignores speckle-like noise that L1 and the GAN already handle;
    * Lab is perceptually uniform and is the space in which :mod:`usegan.colormaps` inverts colours back to strain
      or kPa, so matching Lab is matching the decoded stiffness; a hue shift (green -> blue = soft -> hard) moves
      a/b strongly even when its RGB L1 is small.

    Separable blur with reflection padding, fully differentiable; the 1/100 scale keeps it O(1) like L1.
    """

    def __init__(self, kernel_size: int = 21, sigma: float = 3.0) -> None:
        super().__init__()
        self.register_buffer("kernel", gaussian_kernel(kernel_size, sigma), persistent=False)

    def blur(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        k = self.kernel.to(x.dtype)
        pad = len(k) // 2
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        lab_fake = rgb_to_lab_torch((fake + 1) / 2)
        lab_real = rgb_to_lab_torch((real + 1) / 2)
        return (self.blur(lab_fake) - self.blur(lab_real)).abs().mean() / 100.0


class VGGPerceptualLoss(nn.Module):
    """pix2pixHD's VGG loss: ``sum_i w_i * L1(phi_i(fake), phi_i(real))`` over relu1_1..relu5_1 with weights
    1/32, 1/16, 1/8, 1/4, 1. ``input_size`` (if set) resizes both images first, to bound CPU cost.

    The extractor is injected (``vgg``) or built from an optional local weights file; without weights it is a fixed
    random VGG19 (see :mod:`usegan.models.vgg`).
    """

    DEFAULT_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)

    def __init__(
        self,
        vgg: VGG19Features | None = None,
        weights_path: str | None = None,
        layers: tuple[str, ...] = tuple(RELU_X_1),
        layer_weights: tuple[float, ...] | None = None,
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        self.vgg = vgg or VGG19Features.from_pretrained(weights_path, layers)
        self.layer_weights = layer_weights or self.DEFAULT_WEIGHTS[-len(self.vgg.layer_names) :]
        if len(self.layer_weights) != len(self.vgg.layer_names):
            raise ValueError(f"{len(self.layer_weights)} layer weights for {len(self.vgg.layer_names)} layers")
        self.input_size = input_size

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        fake01, real01 = (fake + 1) / 2, (real + 1) / 2
        if self.input_size and fake01.shape[-1] != self.input_size:
            size = (self.input_size, self.input_size)
            fake01 = F.interpolate(fake01, size=size, mode="bilinear", align_corners=False)
            real01 = F.interpolate(real01, size=size, mode="bilinear", align_corners=False)
        feats_fake = self.vgg(fake01)
        with torch.no_grad():
            feats_real = self.vgg(real01)
        total = fake.new_zeros(())
        for w, a, b in zip(self.layer_weights, feats_fake, feats_real, strict=True):
            total = total + w * F.l1_loss(a, b.detach())
        return total
