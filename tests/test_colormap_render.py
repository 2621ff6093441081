"""The colour-map head: every generated pixel is a colour of the map, for any input, and the rendering is
differentiable in the predicted position."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from usegan.checkpoint import CheckpointError, save_checkpoint
from usegan.colormaps import colormap_for, lut_positions, shared_lut
from usegan.inference import VirtualElastographer, on_map_fraction_off
from usegan.models.colormap_render import lut_tensor, render_positions
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.models.unet import UNetConfig, UNetGenerator
from usegan.training.fidelity import garbage_images


def test_quantised_rendering_gives_exact_lut_colours():
    position = torch.linspace(0, 1, 256).reshape(1, 1, 16, 16)
    rgb = render_positions(position, lut_tensor(), quantise=True)
    pixels = ((rgb[0].permute(1, 2, 0) + 1) * 127.5).round().to(torch.uint8).reshape(-1, 3).numpy()
    np.testing.assert_array_equal(pixels, shared_lut())


def test_rendering_is_differentiable_and_interpolates_between_neighbours():
    position = torch.full((1, 1, 4, 4), 0.3, requires_grad=True)
    rgb = render_positions(position, lut_tensor())
    rgb.sum().backward()
    assert position.grad is not None and position.grad.abs().sum() > 0
    lut = lut_tensor()
    lower = lut[int(0.3 * 255)]
    upper = lut[int(0.3 * 255) + 1]
    pixel = rgb[0, :, 0, 0].detach()
    assert torch.all(pixel >= torch.minimum(lower, upper) - 1e-6) and torch.all(
        pixel <= torch.maximum(lower, upper) + 1e-6
    )


@pytest.mark.parametrize("mode", ["strain", "swe"])
@pytest.mark.parametrize("name", list(garbage_images(120, 160)))
def test_no_input_makes_an_off_map_pixel(tmp_path, mode, name):
    torch.manual_seed(1)
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, n_res_blocks=1, image_size=64))
    with torch.no_grad():  # a badly trained head: saturated positions and wild uncertainty
        generator.head[1].weight.mul_(50.0)
    path = tmp_path / "m.pt"
    save_checkpoint(path, generator, mode=mode, version="tiny")
    engine = VirtualElastographer.from_checkpoint(path)
    result = engine.generate(garbage_images(120, 160)[name])
    assert on_map_fraction_off(result.rgb, engine.info.colormap) == 0.0
    assert on_map_fraction_off(result.model_rgb, engine.info.colormap) == 0.0
    assert not np.any(result.rgb.max(axis=2) < 40)  # never black
    # the scalar map is what the colours encode, within one LUT step
    decoded, _ = engine.info.colormap.invert(result.rgb)
    assert np.nanmax(np.abs(decoded - result.scalar)) <= engine.info.colormap.resolution / 2 + 1e-3
    assert result.uncertainty.shape == result.scalar.shape == result.rgb.shape[:2]
    assert np.all(result.uncertainty > 0)


def test_unet_baseline_has_the_same_head():
    model = UNetGenerator(UNetConfig(base_channels=4, n_down=5, image_size=32))
    rgb, position, log_scale = model(torch.randn(2, 1, 32, 32), with_scalar=True)
    assert rgb.shape == (2, 3, 32, 32) and position.shape == log_scale.shape == (2, 1, 32, 32)
    positions = lut_positions(((rgb[0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy(), max_delta_e=2.0)
    assert np.isfinite(positions).all()


def test_free_rgb_generators_are_not_served(tmp_path):
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, n_res_blocks=1, image_size=32, output="rgb"))
    path = tmp_path / "rgb.pt"
    save_checkpoint(path, generator, mode="strain", version="rgb-ablation")
    with pytest.raises(CheckpointError, match="off the colour map"):
        VirtualElastographer.from_checkpoint(path)
    engine = VirtualElastographer.from_checkpoint(path, allow_rgb_head=True)  # evaluation of the ablation only
    assert engine.generate(np.zeros((32, 32), np.uint8)).scalar is None


def test_format_1_checkpoints_are_refused_with_the_way_forward(tmp_path):
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, n_res_blocks=1, image_size=32, output="rgb"))
    path = tmp_path / "v1.pt"
    save_checkpoint(path, generator, mode="strain", version="v1")
    payload = torch.load(path, weights_only=True)
    payload["format"] = "usegan-checkpoint/1"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="format-1.*--init-from"):
        VirtualElastographer.from_checkpoint(path)


def test_scoring_a_generated_elastogram_uses_its_scalar():
    from usegan.scoring import propose

    cmap = colormap_for("strain")
    scalar = np.full((40, 40), 0.6, np.float32)
    scalar[10:30, 10:30] = 0.05
    rgb = cmap.apply(scalar)
    from_colours = propose(rgb, "strain", scalar < 0.3)
    from_scalar = propose(rgb, "strain", scalar < 0.3, scalar=scalar)
    assert from_colours.score == from_scalar.score
    with pytest.raises(ValueError, match="scalar map"):
        propose(rgb, "strain", scalar < 0.3, scalar=scalar[:10])
