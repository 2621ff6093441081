"""Feature-level unpaired domain adaptation (DANN: Ganin et al., JMLR 17 (2016) 59).

A small classifier looks at the generator's bottleneck features (:meth:`usegan.models.generator.USEGANGenerator.encode`)
at every location and tells a training B-mode (source: phantom, label 0) from an unlabelled target-domain scan
(for instance a real lesion-free breast scan, label 1). Between the features and the classifier sits a gradient
reversal: the classifier learns to tell the domains apart while the generator's encoder receives the opposite
gradient, scaled by a weight that ramps up over the run (:func:`dann_ramp`), and so learns features that do not
say which domain an image came from. The target scans supervise nothing else: they carry no elastogram.

Locations of a training box that are fill (letterbox padding, rotated-in corners) are left out of the source term,
so the classifier cannot tell the domains apart by fill alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.weight * grad, None


def reverse_gradient(x: torch.Tensor, weight: float) -> torch.Tensor:
    """``x`` unchanged on the way forward; on the way back its gradient times ``-weight`` (``weight >= 0``)."""
    if weight < 0:
        raise ValueError(f"the reversal weight must be >= 0, got {weight!r}")
    return _ReverseGradient.apply(x, float(weight))


def dann_ramp(progress: float) -> float:
    """DANN's schedule of the reversal weight, ``2 / (1 + exp(-10 p)) - 1`` for the run's progress ``p`` in [0, 1]
    (clipped): 0 at the start, 0.76 at a fifth of the run, about 1 from half way."""
    p = min(max(float(progress), 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0


class DomainClassifier(nn.Module):
    """Bottleneck features ``(B, channels, h, w)`` -> per-location domain logits ``(B, 1, h, w)`` (> 0: target).
    Two 3x3 convolutions and a 1x1 one: it judges local texture, not the layout of the whole image."""

    def __init__(self, channels: int, hidden: int = 64) -> None:
        super().__init__()
        if channels < 1 or hidden < 1:
            raise ValueError(f"channels and hidden must be positive, got {channels}, {hidden}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(hidden, 1, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


def valid_locations(valid: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """A pixel mask ``valid`` ``(B, 1, H, W)`` (True: image content, not fill) -> ``(B, 1, h, w)`` float in {0, 1}
    at the resolution of ``features``: 1 where every pixel under a location is content."""
    h, w = features.shape[-2:]
    if valid.shape[-2] % h or valid.shape[-1] % w:
        raise ValueError(f"mask {tuple(valid.shape[-2:])} is not a multiple of the features' {h}x{w}")
    kernel = (valid.shape[-2] // h, valid.shape[-1] // w)
    return (F.avg_pool2d(valid.float(), kernel) > 0.999).float()


def domain_loss(
    classifier: DomainClassifier,
    source: torch.Tensor,
    target: torch.Tensor,
    weight: float,
    source_valid: torch.Tensor | None = None,
) -> tuple[torch.Tensor, float]:
    """Binary cross-entropy of ``classifier`` telling ``source`` features (label 0; only the locations
    ``source_valid``, ``(B, 1, h, w)`` in {0, 1}, count) from ``target`` features (label 1), each domain's mean
    weighted equally, the features passed through :func:`reverse_gradient` with ``weight``. Returns ``(loss,
    accuracy)``: add the loss to the generator's total (the classifier's parameters take the plain gradient, the
    generator the reversed one); the accuracy (over counted locations, 0.5 = the domains look alike) is for the log."""
    logit_s = classifier(reverse_gradient(source, weight)).float()
    logit_t = classifier(reverse_gradient(target, weight)).float()
    keep = torch.ones_like(logit_s) if source_valid is None else source_valid.to(logit_s.dtype)
    n_s = keep.sum().clamp_min(1.0)
    loss_s = (F.binary_cross_entropy_with_logits(logit_s, torch.zeros_like(logit_s), reduction="none") * keep).sum()
    loss = 0.5 * (loss_s / n_s + F.binary_cross_entropy_with_logits(logit_t, torch.ones_like(logit_t)))
    with torch.no_grad():
        right = ((logit_s < 0).float() * keep).sum() + (logit_t > 0).float().sum()
        accuracy = float(right / (n_s + logit_t.numel()))
    return loss, accuracy
