"""``usegan.training.composite``: a phantom lesion pasted into a real scan is labelled with the phantom's colours on
the lesion and its ring only; the real tissue stays unlabelled (off the map, NaN position: fill to the trainer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from usegan.cli import main
from usegan.colormaps import lut_positions
from usegan.datasets import PhantomDataset
from usegan.phantom.writer import read_case, read_index
from usegan.training import composite
from usegan.training.data import open_dataset


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    out = tmp_path_factory.mktemp("composite") / "phantoms"
    args = ["phantom", "-n", "6", "--out", str(out), "--size", "128", "--seed", "3", "--quiet", "--workers", "1"]
    assert main([*args, "--types", "malignant", "cyst", "none"]) == 0
    return out


def _scan(level: float = 0.5, size: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(level, 0.08, (size, size)) * 255, 0, 255).astype(np.uint8)


def _lesion_case(phantoms):
    row = next(r for r in read_index(phantoms) if r["lesion_type"] == "cyst")
    return read_case(phantoms / row["name"])


def test_the_label_covers_the_lesion_and_its_ring_and_nothing_of_the_real_tissue(phantoms):
    case, scan = _lesion_case(phantoms), _scan()
    made = composite.composite_case(case, scan, np.random.default_rng(0))
    label, mask = made["label"], made["mask"]
    assert mask.any() and label.any()
    assert (label & mask).sum() >= 0.8 * mask.sum()  # the lesion is labelled (its feathered rim may not be)
    assert (label & ~mask).any()  # and tissue around it
    factor = float(case["meta"]["mm_per_px"]) / 0.18
    ring = max(composite.MIN_RING_PX, composite.RING_FRACTION * np.sqrt(case["mask"].sum() / np.pi)) * factor
    assert not (label & ~ndimage.binary_dilation(mask, iterations=int(np.ceil(ring)) + 2)).any()  # only the ring
    for key in ("strain_rgb", "swe_rgb"):
        position = lut_positions(made[key])
        assert np.isfinite(position[label]).all()
        assert np.isnan(position[~label]).all()  # unlabelled = off the map = fill to the trainer
    far = ~ndimage.binary_dilation(mask, iterations=int(np.ceil(ring + 4 * composite.FEATHER_PX)) + 4)
    assert far.mean() > 0.5 and np.array_equal(made["bmode"][far], scan[far])  # the real scan beyond the paste is kept
    assert (made["bmode"][mask] != scan[mask]).mean() > 0.9  # and the lesion is the phantom's
    assert label.sum() < 0.25 * label.size


def test_the_paste_keeps_the_lesion_size_in_millimetres(phantoms):
    case = _lesion_case(phantoms)
    made = composite.composite_case(case, _scan(), np.random.default_rng(1), scan_mm_per_px=0.18)
    expected = case["mask"].sum() * (float(case["meta"]["mm_per_px"]) / 0.18) ** 2
    assert made["mask"].sum() == pytest.approx(expected, rel=0.15)


def test_the_ring_is_matched_to_the_real_tissue_level(phantoms):
    case = _lesion_case(phantoms)
    for level in (0.35, 0.65):
        made = composite.composite_case(case, _scan(level), np.random.default_rng(2))
        ring = made["label"] & ~made["mask"]
        assert np.median(made["bmode"][ring]) / 255 == pytest.approx(level, abs=0.08)


def test_no_place_in_a_black_scan_and_refusals_name_the_problem(phantoms):
    case = _lesion_case(phantoms)
    with pytest.raises(composite.NoPlaceError, match="grey"):
        composite.composite_case(case, np.zeros((200, 200), np.uint8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not fit"):
        composite.composite_case(case, _scan(size=20), np.random.default_rng(0))
    with pytest.raises(ValueError, match="uint8"):
        composite.composite_case(case, _scan().astype(np.float32), np.random.default_rng(0))
    dark = {**case, "bmode": (case["bmode"] // 16).astype(np.uint8)}
    with pytest.raises(ValueError, match="too dark"):
        composite.composite_case(dark, _scan(), np.random.default_rng(0))
    empty = {**case, "mask": np.zeros_like(case["mask"])}
    with pytest.raises(ValueError, match="no lesion"):
        composite.composite_case(empty, _scan(), np.random.default_rng(0))


def test_a_framed_box_holds_the_lesion_and_a_whole_box_is_the_image():
    mask = np.zeros((200, 240), bool)
    mask[150:170, 200:225] = True
    assert composite.elastography_box(mask, np.random.default_rng(0), whole=1.0) == (0, 0, 240, 200)
    for seed in range(20):
        x, y, w, h = composite.elastography_box(mask, np.random.default_rng(seed), whole=0.0)
        assert w == h and 2.5 * 25 - 1 <= w <= 4 * 25 + 1
        assert 0 <= x and x + w <= 240 and 0 <= y and y + h <= 200
        assert x <= 200 and x + w >= 225 and y <= 150 and y + h >= 170


def test_a_composite_folder_trains_like_a_phantom_folder(phantoms, tmp_path):
    scans = [("a", _scan(seed=1)), ("b", _scan(0.6, seed=2))]
    counts = composite.write_composites(phantoms, scans, tmp_path / "mixed", seed=0)
    rows = read_index(tmp_path / "mixed")
    lesions = sum(r["lesion_type"] != "none" for r in read_index(phantoms))
    assert counts["phantoms"] == 6 and counts["composites"] >= 1
    assert counts["composites"] + counts["skipped_invisible"] + counts["skipped_no_fit"] == lesions
    assert len(rows) == 6 + counts["composites"]
    assert {r["scan"] for r in rows if r["source"] == "composite"} <= {"a", "b"}
    data = PhantomDataset(tmp_path / "mixed", mode="strain")
    boxed = open_dataset(tmp_path / "mixed", "strain", 64, augment=False)
    for index, name in enumerate(data.names):
        if name.startswith("composite_"):
            item = boxed[index]
            finite = torch.isfinite(item["position"])
            assert finite.any() and not finite.all()  # the lesion and ring are labelled, the real tissue is not
    with pytest.raises(FileExistsError):
        composite.write_composites(phantoms, scans, tmp_path / "mixed")
    with pytest.raises(ValueError, match="real scan"):
        composite.write_composites(phantoms, [], tmp_path / "other")
