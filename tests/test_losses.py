"""Each loss: zero on identical inputs, positive and differentiable otherwise, and the property it exists for."""

from __future__ import annotations

import pytest
import torch

from usegan.models.losses import ColorLoss, GANLoss, LossWeights, VGGPerceptualLoss, rgb_to_lab_torch
from usegan.models.vgg import VGG19Features


def smooth_elastogram(seed: int = 0, size: int = 48) -> torch.Tensor:
    """A smooth random colour field in [-1, 1], shaped like an elastogram."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 6, generator=g) * 1.6 - 0.8
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def vgg_loss():
    return VGGPerceptualLoss(vgg=VGG19Features(layers=("relu1_1", "relu2_1", "relu3_1")))


def test_l1_color_vgg_zero_on_identical(vgg_loss):
    x = smooth_elastogram()
    assert ColorLoss()(x, x.clone()).item() == pytest.approx(0.0, abs=1e-6)
    assert vgg_loss(x, x.clone()).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("loss_name", ["color", "vgg"])
def test_losses_positive_and_differentiable(loss_name, vgg_loss):
    loss = ColorLoss() if loss_name == "color" else vgg_loss
    real = smooth_elastogram(0)
    fake = smooth_elastogram(1).requires_grad_(True)
    value = loss(fake, real)
    assert value.item() > 0
    value.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert torch.isfinite(fake.grad).all()


def test_color_loss_reacts_to_hue_shift_far_more_than_to_noise_of_same_l1():
    real = smooth_elastogram(3)
    hue_shifted = real[:, [2, 0, 1]]  # rotate channels: a genuine hue change
    l1_hue = (hue_shifted - real).abs().mean()
    g = torch.Generator().manual_seed(7)
    signs = torch.randint(0, 2, real.shape, generator=g) * 2 - 1
    noisy = (real + signs * l1_hue).clamp(-1, 1)  # zero-mean noise with (about) the same L1 size
    l1_noise = (noisy - real).abs().mean()
    assert l1_noise == pytest.approx(l1_hue.item(), rel=0.15)
    color = ColorLoss()
    assert color(hue_shifted, real) > 5 * color(noisy, real)


def test_gan_loss_modes():
    for mode in ("lsgan", "vanilla"):
        loss = GANLoss(mode)
        confident_real = torch.full((2, 1, 4, 4), 5.0 if mode == "vanilla" else 1.0)
        assert loss(confident_real, True) < loss(confident_real, False)
        logits = torch.zeros(2, 1, 4, 4, requires_grad=True)
        value = loss([logits, logits * 2], True)
        value.backward()
        assert value > 0 and logits.grad.abs().sum() > 0
    assert GANLoss("lsgan")(torch.ones(1, 1, 3, 3), True).item() == 0.0
    with pytest.raises(ValueError, match="'wgan'"):
        GANLoss("wgan")


def test_vgg_perceptual_prefers_structure_over_nothing(vgg_loss):
    real = smooth_elastogram(4)
    blurred_edges = torch.nn.functional.avg_pool2d(real, 5, 1, 2, count_include_pad=False)
    assert vgg_loss(blurred_edges, real) < vgg_loss(torch.zeros_like(real), real)


def test_vgg_loads_torchvision_format_weights(tmp_path):
    reference = VGG19Features(layers=("relu1_1", "relu2_1"), seed=123)
    state = {f"features.{k.split('.', 1)[1]}": v for k, v in reference.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files carry the classifier too
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    loaded = VGG19Features.from_pretrained(path, layers=("relu1_1", "relu2_1"))
    assert loaded.pretrained
    x = torch.rand(1, 3, 32, 32)
    for a, b in zip(loaded(x), reference(x), strict=True):
        torch.testing.assert_close(a, b)
    torch.save({"features.0.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="VGG19 weights lack"):
        VGG19Features.from_pretrained(path, layers=("relu1_1", "relu2_1"))


def test_rgb_to_lab_matches_numpy_reference():
    from usegan.colormaps import rgb_to_lab

    rgb = torch.tensor([[[[1.0]], [[0.0]], [[0.0]]]])  # pure red
    lab = rgb_to_lab_torch(rgb)[0, :, 0, 0]
    expected = rgb_to_lab([[255, 0, 0]])[0]
    torch.testing.assert_close(lab, torch.tensor(expected), atol=0.05, rtol=0)


def test_loss_weights_validate():
    assert LossWeights().to_dict()["l1"] == 100.0
    with pytest.raises(ValueError, match="gan_mode"):
        LossWeights(gan_mode="hinge")
    with pytest.raises(ValueError, match="color must be >= 0"):
        LossWeights(color=-1)
