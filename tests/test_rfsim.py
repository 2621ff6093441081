"""The second simulator and the hybrid cases (lesions drawn into real scans): reproducible cases whose lesions look as
their type should, and the stress report's counts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from usegan.scoring.confidence import framing
from usegan.training.fidelity import second_simulator_report
from usegan.training.rfsim import LESION_TYPES, framed, reads_as_expected, simulate, stress_cases


def _posterior_and_side(case):
    """Mean grey of the band below the lesion and of the same depths beside it."""
    rows, cols = np.nonzero(case.mask)
    below = slice(rows.max() + 6, min(rows.max() + 40, case.bmode.shape[0]))
    under = case.bmode[below, cols.min() + 2 : cols.max() - 1].astype(float)
    width = cols.max() - cols.min()
    side_cols = np.r_[max(0, cols.min() - 2 * width) : max(0, cols.min() - width // 2)]
    if side_cols.size < 4:
        side_cols = np.r_[cols.max() + width // 2 : min(case.bmode.shape[1], cols.max() + 2 * width)]
    return under.mean(), case.bmode[below][:, side_cols].astype(float).mean()


def test_cases_are_reproducible_and_interleaved():
    a, b = stress_cases(2, seed=5, size=128), stress_cases(2, seed=5, size=128)
    assert [c.lesion_type for c in a] == list(LESION_TYPES) * 2
    for x, y in zip(a, b, strict=True):
        assert x.bmode.dtype == np.uint8 and x.bmode.shape == (128, 128) and x.mask.shape == (128, 128)
        assert np.array_equal(x.bmode, y.bmode) and np.array_equal(x.mask, y.mask)
    assert not np.array_equal(a[0].bmode, stress_cases(2, seed=6, size=128)[0].bmode)


def test_framed_crops_a_box_three_times_the_lesion_around_it_inside_the_image():
    for case in stress_cases(2, seed=3, size=128):
        rows, cols = np.nonzero(case.mask)
        extent = max(np.ptp(rows), np.ptp(cols)) + 1
        box = framed(case, 3.0)
        side = box.bmode.shape[0]
        assert box.bmode.shape == box.mask.shape == (side, side) and side == min(max(round(3 * extent), 32), 128)
        assert box.mask.sum() == case.mask.sum()  # the whole lesion is inside
        left, top, w, h = box.imaging["framed"]["box"]
        assert np.array_equal(box.bmode, case.bmode[top : top + h, left : left + w])
        assert box.mm_per_px == case.mm_per_px and box.lesion_type == case.lesion_type
        assert framed(case, 100.0).bmode.shape == case.bmode.shape  # never larger than the image
    with pytest.raises(ValueError, match="factor"):
        framed(case, 0.0)
    with pytest.raises(ValueError, match="no lesion"):
        framed(type(case)(case.bmode, np.zeros_like(case.mask), "cyst", 0.1, {}), 3.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lesions_look_like_their_type(seed):
    rng = np.random.default_rng(seed)
    for lesion_type in LESION_TYPES:
        case = simulate(rng, lesion_type)
        inside = case.bmode[ndimage.binary_erosion(case.mask, iterations=2)].astype(float).mean()
        ring = ndimage.binary_dilation(case.mask, iterations=12) & ~ndimage.binary_dilation(case.mask, iterations=4)
        assert inside < case.bmode[ring].astype(float).mean(), lesion_type  # every lesion type is darker
        assert 3.0 <= 2 * np.sqrt(case.mask.sum() / np.pi) * case.mm_per_px <= 20.0
        under, side = _posterior_and_side(case)
        if lesion_type == "carcinoma":
            assert under < side  # posterior shadow
        if lesion_type == "cyst":
            assert inside < 10  # anechoic
            assert under > side  # posterior enhancement


def test_expected_readings():
    assert reads_as_expected("carcinoma", "strain", 4) and not reads_as_expected("carcinoma", "strain", 3)
    assert reads_as_expected("fibroadenoma", "strain", 3) and not reads_as_expected("fibroadenoma", "strain", 4)
    assert reads_as_expected("cyst", "strain", 2) and not reads_as_expected("cyst", "strain", 3)
    assert reads_as_expected("carcinoma", "swe", 2) and reads_as_expected("cyst", "swe", 1)
    assert not reads_as_expected("fibroadenoma", "swe", 2) and not reads_as_expected("carcinoma", "swe", None)
    with pytest.raises(ValueError, match="'lipoma'"):
        reads_as_expected("lipoma", "swe", 1)
    with pytest.raises(ValueError, match="'shear'"):
        reads_as_expected("cyst", "shear", 1)


class _HardWhereTold:
    """An engine stand-in whose SWE reading is 150 kPa inside the lesions of the cases of ``hard`` types, else
    20 kPa, with an uncertainty of 60 kPa (unsure) inside the lesions of the ``unsure`` types, else 2 kPa (it
    recognises a case by its B-mode)."""

    def __init__(self, cases, hard, unsure=()):
        from usegan.colormaps import colormap_for

        self.info = type("Info", (), {"mode": "swe", "colormap": colormap_for("swe")})()
        self.truth = {c.bmode.tobytes(): (c.mask & (c.lesion_type in hard), c.mask & (c.lesion_type in unsure))
                      for c in cases}  # fmt: skip

    def generate_batch(self, images):
        outs = []
        for image in images:
            hard, unsure = self.truth[image.tobytes()]
            kpa = np.where(hard, 150.0, 20.0).astype(np.float32)
            sd = np.where(unsure, 60.0, 2.0).astype(np.float32)
            outs.append(type("Out", (), {"rgb": self.info.colormap.apply(kpa), "scalar": kpa, "uncertainty": sd})())
        return outs


def test_the_report_counts_what_the_engine_reads():
    cases = stress_cases(3, seed=0)
    report = second_simulator_report(_HardWhereTold(cases, hard={"carcinoma", "cyst"}), cases)
    assert report["n_cases"] == 9 and report["unscorable"] == 0 and report["off_map_max"] == 0.0
    assert report["by_type"]["carcinoma"] | {"visible": 0, "visible_as_expected": 0} == {
        "n": 3, "as_expected": 3, "visible": 0, "visible_as_expected": 0, "unscorable": 0, "cautioned": 0,
        "scores": {"2": 3}, "rate": 1.0,
    }  # fmt: skip
    assert report["by_type"]["cyst"]["as_expected"] == 0 and report["by_type"]["cyst"]["scores"] == {"2": 3}
    assert report["by_type"]["fibroadenoma"]["as_expected"] == 3
    assert report["as_expected_rate"] == pytest.approx(6 / 9)
    assert report["per_case"] == [2, 1, 2] * 3  # carcinoma, fibroadenoma, cyst, interleaved
    visible = [r["visible"] for r in report["by_type"].values()]
    assert report["by_type"]["cyst"]["visible"] == 3 and all(0 <= v <= 3 for v in visible)


def test_the_report_counts_the_lesions_the_quality_map_would_caution():
    cases = stress_cases(3, seed=0)
    report = second_simulator_report(_HardWhereTold(cases, hard={"carcinoma"}, unsure={"cyst"}), cases)
    assert {t: r["cautioned"] for t, r in report["by_type"].items()} == {"carcinoma": 0, "fibroadenoma": 0, "cyst": 3}


def test_the_framing_gain_counts_lesions_small_in_the_frame_only():
    from usegan.training.fidelity import framing_gain

    cases = stress_cases(4, seed=1)
    shares = [framing(c.mask).fraction for c in cases]
    whole = [5 if c.lesion_type == "carcinoma" else 1 for c in cases]  # every lesion read as expected whole ...
    framed_scores = [1] * len(cases)  # ... and framed, every carcinoma soft
    gain = framing_gain(cases, "strain", whole, framed_scores, below=0.3)
    small = [c for c, s in zip(cases, shares, strict=True) if s < 0.3]
    assert sum(r["n"] for r in gain["by_type"].values()) == len(small) > 0
    for kind, row in gain["by_type"].items():
        assert row["whole"] == row["n"] == sum(c.lesion_type == kind for c in small)
        assert row["framed"] == (0 if kind == "carcinoma" else row["n"])
    assert framing_gain(cases, "strain", whole, framed_scores, below=0.0)["by_type"] == {}
    with pytest.raises(ValueError, match="one proposal per case"):
        framing_gain(cases, "strain", whole[:-1], framed_scores)


def test_the_depth_split_counts_shallow_and_deep_lesions_apart():
    from usegan.training.fidelity import depth_split

    cases = stress_cases(4, seed=1)
    rows = [np.nonzero(c.mask)[0].mean() / c.mask.shape[0] for c in cases]
    scores = [5 if r < 0.5 else 1 for r in rows]  # shallow lesions read hard, deep ones soft
    split = depth_split(cases, "strain", scores, above=0.5)
    assert split["above"] == 0.5
    for kind, row in split["by_type"].items():
        n_shallow = sum(c.lesion_type == kind and r < 0.5 for c, r in zip(cases, rows, strict=True))
        assert row["shallow"]["n"] == n_shallow and row["deep"]["n"] == 4 - n_shallow
        hard = kind == "carcinoma"  # only carcinomas are expected hard
        assert row["shallow"]["as_expected"] == (n_shallow if hard else 0)
        assert row["deep"]["as_expected"] == (0 if hard else 4 - n_shallow)
    assert 0 < sum(r < 0.5 for r in rows) < len(rows)  # both places occur, or the test says nothing
    with pytest.raises(ValueError, match="one proposal per case"):
        depth_split(cases, "strain", scores[:-1])


# --- hybrid cases: simulated lesions drawn into real scans (a synthetic stand-in for the real scan here) ---


def _scan(seed: int = 0, size: int = 192) -> np.ndarray:
    """A speckled, layered grey scan (uint8) standing in for a real lesion-free B-mode; darker at depth."""
    rng = np.random.default_rng(seed)
    speckle = ndimage.gaussian_filter(rng.rayleigh(1.0, (size, size)), (0.8, 1.5))
    layers = 0.5 + 0.1 * np.sin(np.arange(size)[:, None] / 9.0) - 0.2 * np.arange(size)[:, None] / size
    return np.clip(255 * layers * speckle / speckle.mean(), 0, 255).astype(np.uint8)


def test_hybrid_cases_are_reproducible_interleaved_and_edit_only_the_lesion_and_behind_it():
    from usegan.training.hybrid import hybrid_cases

    scans = [("a.png", _scan(0)), ("b.png", _scan(1))]
    a, b = hybrid_cases(scans, 2, seed=3), hybrid_cases(scans, 2, seed=3)
    assert [c.lesion_type for c in a] == list(LESION_TYPES) * 2
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.bmode, y.bmode) and np.array_equal(x.mask, y.mask) and x.imaging == y.imaging
        scan = dict(scans)[x.imaging["scan"]]
        assert x.bmode.dtype == np.uint8 and x.bmode.shape == x.mask.shape == scan.shape and x.mask.any()
        rows, cols = np.nonzero(x.mask)
        near = ndimage.binary_dilation(x.mask, iterations=8)
        behind = np.zeros_like(x.mask)
        behind[rows.min() :, max(0, cols.min() - 6) : cols.max() + 7] = True
        changed = x.bmode != scan
        assert changed[x.mask].mean() > 0.5 and not changed[~(near | behind)].any()
    assert not np.array_equal(a[0].bmode, hybrid_cases(scans, 2, seed=4)[0].bmode)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hybrid_lesions_look_like_their_type(seed):
    from usegan.training.hybrid import insert_lesion

    rng = np.random.default_rng(seed)
    for lesion_type in LESION_TYPES:
        case = insert_lesion(_scan(seed), lesion_type, rng, mm_per_px=0.18)
        inside = case.bmode[ndimage.binary_erosion(case.mask, iterations=2)].astype(float).mean()
        ring = ndimage.binary_dilation(case.mask, iterations=12) & ~ndimage.binary_dilation(case.mask, iterations=4)
        assert inside < case.bmode[ring].astype(float).mean() - 20, lesion_type  # every lesion type is darker
        assert 3.0 <= 2 * np.sqrt(case.mask.sum() / np.pi) * case.mm_per_px <= 20.0
        under, side = _posterior_and_side(case)
        if lesion_type == "carcinoma":
            assert case.imaging["posterior_db"] < 0 and under < side  # posterior shadow
        if lesion_type == "cyst":
            assert inside < 15  # anechoic
            assert case.imaging["posterior_db"] > 0 and under > side  # posterior enhancement


def test_hybrid_lesions_sit_in_tissue_and_bad_scans_are_refused():
    from usegan.training.hybrid import MIN_TISSUE_GREY, hybrid_cases, insert_lesion

    scan = _scan(2)
    scan[:, : scan.shape[1] // 2] = 0  # the left half black (a shadow, the chest wall): no lesion goes there
    rng = np.random.default_rng(0)
    for _ in range(6):
        case = insert_lesion(scan, "carcinoma", rng)
        ring = ndimage.binary_dilation(case.mask, iterations=8) & ~ndimage.binary_dilation(case.mask, iterations=3)
        assert np.median(scan[ring]) >= MIN_TISSUE_GREY * 255
    black = np.zeros((128, 128), np.uint8)
    with pytest.raises(ValueError, match="no place"):
        insert_lesion(black, "cyst", rng, name="black.png")
    with pytest.raises(ValueError, match="mostly black"):
        hybrid_cases([("black.png", black)], 1)
    with pytest.raises(ValueError, match="lesion_type"):
        insert_lesion(scan, "lipoma", rng)
    with pytest.raises(ValueError, match="uint8 grey"):
        insert_lesion(np.stack([scan] * 3, -1), "cyst", rng)
    with pytest.raises(ValueError, match="at least one"):
        hybrid_cases([], 1)


def test_redraw_puts_the_same_lesion_into_another_scan():
    from usegan.training.hybrid import hybrid_cases, redraw

    scans = [("a.png", _scan(0)), ("b.png", _scan(1))]
    other = _scan(5)
    for case in hybrid_cases(scans, 1, seed=2):
        same = redraw(case, dict(scans)[case.imaging["scan"]], case.imaging["scan"])
        assert np.array_equal(same.bmode, case.bmode) and same.imaging == case.imaging  # its own scan: itself
        moved = redraw(case, other, "other.png")
        assert np.array_equal(moved.mask, case.mask) and moved.lesion_type == case.lesion_type
        assert moved.imaging == {**case.imaging, "scan": "other.png"}
        near = ndimage.binary_dilation(case.mask, iterations=8)
        behind = np.zeros_like(case.mask)
        rows, cols = np.nonzero(case.mask)
        behind[rows.min() :, max(0, cols.min() - 6) : cols.max() + 7] = True
        changed = moved.bmode != other
        assert changed[case.mask].mean() > 0.5 and not changed[~(near | behind)].any()  # the lesion, on other tissue
        if case.lesion_type == "carcinoma":  # still darker than the tissue around it, with its shadow
            inside = moved.bmode[ndimage.binary_erosion(case.mask, iterations=2)].astype(float).mean()
            ring = near & ~ndimage.binary_dilation(case.mask, iterations=4)
            assert inside < moved.bmode[ring].astype(float).mean() - 20
    with pytest.raises(ValueError, match="uint8 grey"):
        redraw(case, other[:100])
