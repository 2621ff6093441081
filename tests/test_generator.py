"""USE-GAN generator, attention, discriminators, baseline: layer order and shapes on tiny configs."""

from __future__ import annotations

import pytest
import torch

from usegan.models.attention import ChannelAttention, SpatialAttention
from usegan.models.discriminator import DiscriminatorConfig, USEGANDiscriminator, mask_to_boxes
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.models.layers import ResidualBlock, UpBlock
from usegan.models.unet import UNetConfig, UNetGenerator

TINY = dict(base_channels=4, image_size=64)


def execution_order(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[str, torch.nn.Module, tuple]]:
    calls = []
    hooks = [
        m.register_forward_hook(lambda mod, i, o, n=name: calls.append((n, mod, tuple(o.shape))))
        for name, m in model.named_children()
    ]
    model(x)
    for h in hooks:
        h.remove()
    return calls


def test_layer_order_follows_the_invention():
    model = USEGANGenerator(GeneratorConfig(**TINY))
    calls = execution_order(model, torch.randn(1, 1, 64, 64))
    names = [n for n, _, _ in calls]
    assert names == [
        "stem",
        "spatial_attention",
        "down1",
        "down2",
        "down3",
        *[f"res{i}" for i in range(1, 7)],
        "up1",
        "up2",
        "up3",
        "channel_attention",
        "head",
    ]
    kinds = [type(m) for _, m, _ in calls]
    assert kinds[1] is SpatialAttention and kinds[-2] is ChannelAttention
    assert sum(k is ResidualBlock for k in kinds) == 6
    assert sum(k is UpBlock for k in kinds) == 3
    # spatial attention runs at full resolution, before the first down-sampling; 3 halvings then 3 doublings
    sides = [shape[-1] for _, _, shape in calls]
    assert sides[:2] == [64, 64]
    assert sides[2:5] == [32, 16, 8]
    assert set(sides[5:11]) == {8}
    assert sides[11:14] == [16, 32, 64]
    assert sides[14:] == [64, 64]


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
@pytest.mark.parametrize("shape", [(2, 6, 5, 7), (1, 3, 1, 4), (3, 8, 16, 8)])
def test_eval_upblock_is_the_upsample_and_conv_it_replaces(norm, shape):
    torch.manual_seed(0)
    block = UpBlock(shape[1], 5, norm)
    with torch.no_grad():  # non-trivial norm statistics, so the eval path is compared with itself, not zeros
        for p in block.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    block.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        reference = block.conv(block.up(x))  # the training path: nearest x2, reflection pad, 3x3 conv
        fused = block(x)
    assert fused.shape == (shape[0], 5, 2 * shape[2], 2 * shape[3])
    assert torch.allclose(fused, reference, atol=1e-5), (fused - reference).abs().max()
    # the eval path must read the block's current weights, not a copy made once
    with torch.no_grad():
        block.conv[1].weight.mul_(2)
        assert torch.allclose(block(x), block.conv(block.up(x)), atol=1e-5)


def test_eval_upblock_gradients_reach_the_conv_weights():
    block = UpBlock(3, 2, "none").eval()
    block(torch.randn(1, 3, 4, 4)).sum().backward()
    assert block.conv[1].weight.grad is not None and block.conv[1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "config, size",
    [
        (GeneratorConfig(**TINY), 64),
        (GeneratorConfig(**TINY), 48),  # any multiple of 8, not only the training size
        (GeneratorConfig(base_channels=8, image_size=64, norm="batch"), 64),
        (GeneratorConfig(base_channels=4, image_size=64, norm="none", use_attention=False), 64),
        (GeneratorConfig(base_channels=4, n_down=2, n_res_blocks=2, image_size=32), 32),
    ],
)
def test_generator_shapes_and_range(config, size):
    model = USEGANGenerator(config).eval()
    out = model(torch.randn(2, 1, size, size))
    assert out.shape == (2, 3, size, size)
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("h, w", [(60, 64), (64, 30), (7, 7)])
def test_generator_rejects_sizes_not_multiple_of_8(h, w):
    model = USEGANGenerator(GeneratorConfig(**TINY))
    with pytest.raises(ValueError, match=f"multiple of 8, got {h}x{w}"):
        model(torch.randn(1, 1, h, w))


def test_generator_rejects_wrong_channels_and_bad_config():
    with pytest.raises(ValueError, match=r"expected input \(B, 1, H, W\)"):
        USEGANGenerator(GeneratorConfig(**TINY))(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="norm must be"):
        GeneratorConfig(norm="layer")
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        GeneratorConfig(image_size=100)


def test_no_attention_ablation_replaces_modules():
    model = USEGANGenerator(GeneratorConfig(**TINY, use_attention=False))
    assert isinstance(model.spatial_attention, torch.nn.Identity)
    assert isinstance(model.channel_attention, torch.nn.Identity)


def test_cbam_attention_weights_are_gates():
    x = torch.randn(2, 16, 12, 12)
    ca, sa = ChannelAttention(16, reduction=4), SpatialAttention(7)
    cw, sw = ca.weights(x), sa.weights(x)
    assert cw.shape == (2, 16, 1, 1) and sw.shape == (2, 1, 12, 12)
    assert (cw > 0).all() and (cw < 1).all() and (sw > 0).all() and (sw < 1).all()
    torch.testing.assert_close(ca(x), x * cw)
    torch.testing.assert_close(sa(x), x * sw)


def test_patch_discriminators_global_and_local():
    d = USEGANDiscriminator(DiscriminatorConfig(base_channels=4, local=True, local_crop_size=32))
    bmode, elasto = torch.randn(2, 1, 64, 64), torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 1, 64, 64)
    mask[0, :, 10:30, 20:40] = 1  # sample 1 has an empty mask: falls back to a centre crop
    outputs = d(bmode, elasto, mask_to_boxes(mask))
    assert len(outputs) == 2
    assert outputs[0].shape[:2] == (2, 1) and outputs[1].shape[:2] == (2, 1)
    assert len(d(bmode, elasto)) == 1  # no boxes: global only


def test_mask_to_boxes_encloses_mask_with_margin():
    mask = torch.zeros(1, 1, 64, 64)
    mask[0, 0, 10:20, 30:50] = 1
    x, y, w, h = mask_to_boxes(mask, margin=0.0)[0].tolist()
    assert (x, y, w, h) == (30, 10, 20, 10)


def test_unet_baseline_shapes():
    model = UNetGenerator(UNetConfig(base_channels=4, n_down=6)).eval()
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="multiple of 64"):
        model(torch.randn(1, 1, 48, 48))
