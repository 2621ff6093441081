"""Datasets: phantom and pairs layouts, tensor contract, and augmentations that keep pairs aligned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from usegan.cli import main
from usegan.colormaps import strain_colormap
from usegan.datasets import (
    AugmentConfig,
    PairsDataset,
    PhantomDataset,
    amplitude_mix,
    augment_pair,
    colour_box,
    target_scans,
)
from usegan.imageio import save_png


@pytest.fixture(scope="module")
def phantom_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("phantoms")
    assert main(["phantom", "-n", "3", "--out", str(root), "--size", "64", "--workers", "1", "--quiet"]) == 0
    return root


def _check_item(item: dict, size: int) -> None:
    assert item["bmode"].shape == (1, size, size) and item["bmode"].dtype == torch.float32
    assert item["elasto"].shape == (3, size, size)
    assert item["mask"].shape == (1, size, size)
    for key in ("bmode", "elasto"):
        assert item[key].min() >= -1.0 and item[key].max() <= 1.0
    assert set(torch.unique(item["mask"]).tolist()) <= {0.0, 1.0}
    assert item["box"].shape == (4,) and item["box"].dtype == torch.int64


def test_phantom_dataset_reads_the_cli_layout(phantom_root):
    for mode in ("strain", "swe"):
        ds = PhantomDataset(phantom_root, mode=mode)
        assert len(ds) == 3 and ds.names == ["case_00000", "case_00001", "case_00002"]
        item = ds[1]  # a cyst: has a lesion
        _check_item(item, 64)
        assert item["name"] == "case_00001" and item["mask"].sum() > 0
        x, y, w, h = item["box"].tolist()
        rgb = ((item["elasto"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
        chroma = rgb.max(-1).astype(int) - rgb.min(-1)
        assert (chroma[y : y + h, x : x + w] > 40).mean() > 0.9  # colour inside the box
        outside = np.ones((64, 64), bool)
        outside[y : y + h, x : x + w] = False
        assert (chroma[outside] == 0).all()  # gray B-mode outside
    with pytest.raises(ValueError, match="mode"):
        PhantomDataset(phantom_root, mode="doppler")


def test_phantom_dataset_resizes_with_the_box(phantom_root):
    item = PhantomDataset(phantom_root, size=32)[1]
    _check_item(item, 32)
    full = PhantomDataset(phantom_root)[1]
    assert torch.allclose(item["box"].float(), full["box"].float() / 2, atol=1)


def _pair_images(size: int = 48):
    """A synthetic pair: gradient B-mode, a colour box [10:40, 8:36] holding a strain ramp, a square mask."""
    rng = np.random.default_rng(0)
    bmode = (rng.random((size, size)) * 255).astype(np.uint8)
    elasto = np.repeat(bmode[..., None], 3, axis=2)
    ramp = np.tile(np.linspace(0, 1, 28), (30, 1))
    elasto[10:40, 8:36] = strain_colormap().apply(ramp)
    mask = np.zeros((size, size), np.uint8)
    mask[20:30, 15:25] = 255
    return bmode, elasto, mask


def test_pairs_dataset_layout_and_box_detection(tmp_path):
    bmode, elasto, mask = _pair_images()
    for name in ("a", "b"):
        save_png(bmode, tmp_path / "bmode" / f"{name}.png")
        save_png(elasto, tmp_path / "elasto" / f"{name}.png")
    save_png(mask, tmp_path / "mask" / "a.png")
    ds = PairsDataset(tmp_path, size=48)
    assert ds.names == ["a", "b"]
    a, b = ds[0], ds[1]
    _check_item(a, 48)
    assert a["box"].tolist() == [8, 10, 28, 30]
    assert a["mask"].sum() == 100 and b["mask"].sum() == 0  # mask optional
    assert colour_box(np.zeros((8, 8, 3), np.uint8)) == (0, 0, 8, 8)  # no colour: whole image


def test_pairs_dataset_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="no images"):
        PairsDataset(tmp_path)
    bmode, elasto, _ = _pair_images()
    save_png(bmode, tmp_path / "bmode" / "x.png")
    with pytest.raises(ValueError, match="no elastogram.*'x'"):
        PairsDataset(tmp_path)
    save_png(elasto[:40], tmp_path / "elasto" / "x.png")
    with pytest.raises(ValueError, match="x.png: elastogram is 48x40"):
        PairsDataset(tmp_path)[0]


def test_augmentations_keep_the_pair_aligned():
    size = 64
    # A marker that is bright in the B-mode, red in the elastogram and set in the mask, off-centre.
    bmode = np.zeros((size, size), np.float32)
    elasto = np.zeros((size, size, 3), np.uint8)
    mask = np.zeros((size, size), bool)
    bmode[10:22, 40:50] = 1.0
    elasto[10:22, 40:50] = (255, 0, 0)
    mask[10:22, 40:50] = True
    config = AugmentConfig(hflip=0.5, vflip=0.5, gain=0.0, contrast=0.0, rotate_deg=10.0)
    flipped = 0
    for seed in range(12):
        b, e, m, box = augment_pair(bmode, elasto, mask, (40, 10, 10, 12), config, np.random.default_rng(seed))
        flipped += m[:, :32].sum() > m[:, 32:].sum()
        red = e[..., 0] > 127
        np.testing.assert_array_equal(red, m)  # elastogram and mask moved together
        assert ((b > 0.5) ^ m).mean() < 0.01  # B-mode too (bilinear edges aside)
        x, y, w, h = box
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        assert abs(x - cols[0]) <= 1 and abs(y - rows[0]) <= 1 and abs(x + w - 1 - cols[-1]) <= 1
    assert 0 < flipped < 12  # flips happen, and not always


def test_gain_jitter_changes_only_the_bmode():
    rng = np.random.default_rng(3)
    bmode = np.full((16, 16), 0.5, np.float32)
    elasto = np.full((16, 16, 3), 200, np.uint8)
    config = AugmentConfig(hflip=0.0, gain=0.2, contrast=0.0, rotate_deg=0.0)
    changed = 0
    for _ in range(5):
        b, e, _, _ = augment_pair(bmode, elasto, np.zeros((16, 16), bool), (0, 0, 16, 16), config, rng)
        changed += not np.allclose(b, 0.5)
        np.testing.assert_array_equal(e, elasto)
    assert changed == 5
    with pytest.raises(ValueError, match="hflip"):
        AugmentConfig(hflip=1.5)


def test_depth_gain_is_a_clipped_ramp_over_depth_in_the_bmode_only():
    bmode = np.full((32, 8), 0.5, np.float32)
    elasto = np.full((32, 8, 3), 200, np.uint8)
    config = AugmentConfig(hflip=0.0, gain=0.0, contrast=0.0, rotate_deg=0.0, gamma=0.0, blur_px=0.0, depth_gain=0.8)
    rng = np.random.default_rng(0)
    bottoms = []
    for _ in range(40):
        b, e, _, _ = augment_pair(bmode, elasto, np.zeros((32, 8), bool), (0, 0, 8, 32), config, rng)
        np.testing.assert_array_equal(e, elasto)
        np.testing.assert_allclose(b[0], 0.5)  # the near field keeps its grey
        assert np.all(np.ptp(b, axis=1) == 0)  # the same shift across a row
        assert np.all(np.diff(b[:, 0]) >= 0) or np.all(np.diff(b[:, 0]) <= 0)  # monotone over depth
        assert 0.0 <= b.min() and b.max() <= 1.0
        bottoms.append(b[-1, 0])
    bottoms = np.array(bottoms)
    assert (bottoms == 0.5).mean() > 0.25  # half of the time untouched
    assert (bottoms == 0.0).any() and (bottoms == 1.0).any()  # crushed to black or washed out, clipped
    with pytest.raises(ValueError, match="depth_gain"):
        AugmentConfig(depth_gain=-0.1)


def test_depth_gain_reaches_the_training_set(phantom_root):
    from usegan.training.data import open_dataset

    root = phantom_root
    plain = AugmentConfig(hflip=0.0, gain=0.0, contrast=0.0, rotate_deg=0.0, gamma=0.0, blur_px=0.0)
    ramped = AugmentConfig(**{**vars(plain), "depth_gain": 0.8})
    torch.manual_seed(1)
    items = [open_dataset(root, "strain", 48, augment=ramped)[0]["bmode"] for _ in range(8)]
    torch.manual_seed(1)
    flat = [open_dataset(root, "strain", 48, augment=plain)[0]["bmode"] for _ in range(8)]
    assert any(not torch.equal(a, b) for a, b in zip(items, flat, strict=True))


def _speckle(shape, seed):
    return np.random.default_rng(seed).uniform(0.2, 0.6, shape).astype(np.float32)


def test_amplitude_mix_moves_the_low_frequencies_to_the_style_and_keeps_the_structure():
    from scipy import ndimage

    ramp = np.linspace(0.55, 0.45, 64, dtype=np.float32)[:, None]  # a faint depth fall-off of the image's own
    image = _speckle((64, 48), 0) + ramp - 0.3  # in [0.35, 0.85]
    style = np.linspace(0.9, 0.1, 128, dtype=np.float32)[:, None] * np.ones((1, 96), np.float32)  # steep, darker
    np.testing.assert_allclose(amplitude_mix(image, style, 0.1, 0.0), image, atol=1e-5)  # weight 0: unchanged
    mixed = amplitude_mix(image, style, 0.1, 1.0)
    assert mixed.shape == image.shape and mixed.dtype == np.float32 and 0 <= mixed.min() and mixed.max() <= 1

    def fall_off(a):
        return a[8:24].mean() - a[40:56].mean()

    # the image's own fall-off keeps its direction and takes the style's strength; the mean grey follows the style
    assert fall_off(image) < 0.08 and fall_off(mixed) > 2 * fall_off(image)
    assert abs(mixed.mean() - style.mean()) < abs(image.mean() - style.mean())

    # the speckle (high frequencies: where the structures are) is the image's own
    def high(a):
        return a - ndimage.uniform_filter(a, 9)

    assert np.corrcoef(high(mixed).ravel(), high(image).ravel())[0, 1] > 0.8
    assert abs(np.corrcoef(high(mixed).ravel(), high(_speckle((64, 48), 2)).ravel())[0, 1]) < 0.1


def test_amplitude_mix_keeps_black_pixels_black():
    image = _speckle((32, 32), 0)
    image[:, :5] = 0.0  # fill or crushed black
    mixed = amplitude_mix(image, np.full((16, 16), 0.9, np.float32), 0.2, 1.0)
    assert np.all(mixed[:, :5] == 0) and mixed[:, 5:].mean() > image[:, 5:].mean()


def test_style_transfer_touches_only_the_bmode_half_of_the_time(tmp_path):
    for i in range(3):
        save_png((np.linspace(250, 5, 40)[:, None] * np.ones((40, 30))).astype(np.uint8), tmp_path / f"scan{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    scans = target_scans(str(tmp_path))
    assert len(scans) == 3
    # grey levels as saved: row 0 is 250 of 255, the last row 5 (a scan read 255x too dark is a black style target)
    assert scans[0][0, 0] == pytest.approx(250 / 255, abs=1e-6) and scans[0][-1, 0] == pytest.approx(5 / 255, abs=1e-6)
    plain = dict(hflip=0.0, gain=0.0, contrast=0.0, rotate_deg=0.0, gamma=0.0, blur_px=0.0)
    config = AugmentConfig(**plain, style_dir=str(tmp_path), style_beta=0.1)
    bmode, elasto = _speckle((32, 24), 3), np.full((32, 24, 3), 200, np.uint8)
    rng = np.random.default_rng(0)
    changed = 0
    for _ in range(40):
        b, e, _, _ = augment_pair(bmode, elasto, np.zeros((32, 24), bool), (0, 0, 24, 32), config, rng)
        np.testing.assert_array_equal(e, elasto)
        changed += not np.allclose(b, bmode)
    assert 8 < changed < 32
    # off (beta 0): no random number of its own is drawn, so the runs before it reproduce draw for draw
    states = []
    for off in (AugmentConfig(**plain), AugmentConfig(**plain, style_dir=str(tmp_path), style_beta=0.0)):
        rng = np.random.default_rng(5)
        augment_pair(bmode, elasto, np.zeros((32, 24), bool), (0, 0, 24, 32), off, rng)
        states.append(rng.random())
    rng = np.random.default_rng(5)
    augment_pair(bmode, elasto, np.zeros((32, 24), bool), (0, 0, 24, 32), config, rng)
    assert states[0] == states[1] != rng.random()


def test_style_settings_are_checked_when_made(tmp_path):
    with pytest.raises(ValueError, match="needs style_dir"):
        AugmentConfig(style_beta=0.1)
    with pytest.raises(ValueError, match="style_beta"):
        AugmentConfig(style_dir=str(tmp_path), style_beta=0.7)
    with pytest.raises(ValueError, match="holds no images"):
        AugmentConfig(style_dir=str(tmp_path / "missing"), style_beta=0.1)


def test_dataset_augmentation_follows_torch_seed(phantom_root):
    ds = PhantomDataset(phantom_root, augment=AugmentConfig())
    torch.manual_seed(0)
    first = ds[2]["bmode"]
    torch.manual_seed(0)
    assert torch.equal(first, ds[2]["bmode"])
