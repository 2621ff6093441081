"""VGG19 feature extractor, layer-compatible with torchvision's ``vgg19().features`` (no torchvision needed).

``VGG19Features.from_pretrained(path)`` loads a torchvision-format ``vgg19`` state dict (``features.N.weight`` /
``features.N.bias`` keys; classifier keys are ignored) from a local file. Nothing is ever downloaded. Without a file,
the network keeps a fixed, seeded random initialisation: a random-feature perceptual loss still compares multi-scale
local structure (edges, blobs) and trains stably, but is weaker than ImageNet features -- this is the documented
default on machines without the weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

# torchvision's cfg "E": numbers are conv output channels, "M" is 2x2 max-pooling.
VGG19_CFG = [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
]
# Index in ``features`` of the ReLU after the first conv of each block (pix2pixHD's VGG loss layers).
RELU_X_1 = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """RGB ``(B, 3, H, W)`` in [0, 1] -> list of feature maps at ``layers`` (names from ``RELU_X_1``).

    Only the layers up to the deepest requested one are built. Parameters are frozen (``requires_grad=False``).
    """

    def __init__(self, layers: tuple[str, ...] = tuple(RELU_X_1), seed: int = 0) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in RELU_X_1]
        if unknown:
            raise ValueError(f"unknown VGG19 layers {unknown}; choose from {list(RELU_X_1)}")
        self.layer_names = tuple(layers)
        self.layer_indices = [RELU_X_1[name] for name in layers]
        last = max(self.layer_indices)
        modules: list[nn.Module] = []
        in_ch = 3
        for item in VGG19_CFG:
            if len(modules) > last:
                break
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(in_ch, item, 3, padding=1), nn.ReLU(inplace=False)]
                in_ch = item
        self.features = nn.Sequential(*modules[: last + 1])
        generator = torch.Generator().manual_seed(seed)
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * 9
                with torch.no_grad():
                    m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                    m.bias.zero_()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.pretrained = False
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_pretrained(cls, path: str | Path | None, layers: tuple[str, ...] = tuple(RELU_X_1)) -> VGG19Features:
        """Build and, when ``path`` is given, load torchvision-format VGG19 weights from that local file."""
        model = cls(layers)
        if path:
            model.load_torchvision_state_dict(torch.load(Path(path), map_location="cpu", weights_only=True))
        return model

    def load_torchvision_state_dict(self, state: dict) -> None:
        wanted = {k: v for k, v in state.items() if k.startswith("features.")}
        own = self.state_dict()
        missing = [k for k in own if k not in wanted]
        if missing:
            raise ValueError(f"VGG19 weights lack {len(missing)} tensors, e.g. {missing[:3]}")
        for key in own:
            if tuple(wanted[key].shape) != tuple(own[key].shape):
                raise ValueError(
                    f"VGG19 weight {key} has shape {tuple(wanted[key].shape)}, expected {tuple(own[key].shape)}"
                )
        self.load_state_dict({k: wanted[k] for k in own})
        self.pretrained = True

    def forward(self, rgb01: torch.Tensor) -> list[torch.Tensor]:
        x = (rgb01 - self.mean) / self.std
        outputs = []
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self.layer_indices:
                outputs.append(x)
        return outputs
