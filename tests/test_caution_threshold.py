"""``scripts/caution_threshold.py``: a threshold is scored by how many wrong readings it cautions against how many
right ones, and the best is the smallest fraction that separates them best; ``quality_map`` refuses a fraction <= 0."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from usegan.colormaps import colormap_for
from usegan.scoring.confidence import quality_map

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "caution_threshold.py"
spec = importlib.util.spec_from_file_location("caution_threshold", SCRIPT)
ct = importlib.util.module_from_spec(spec)
sys.modules["caution_threshold"] = ct
spec.loader.exec_module(ct)


def _roi(kind: str, wrong: bool, sd_inside: float) -> dict:
    cmap = colormap_for("swe")
    mask = np.zeros((32, 32), bool)
    mask[8:20, 8:20] = True
    sd = np.where(mask, sd_inside, 2.0).astype(np.float32)
    return {"kind": kind, "wrong": wrong, "rgb": cmap.apply(np.full((32, 32), 120.0, np.float32)), "sd": sd,
            "mask": mask}  # fmt: skip


def test_the_sweep_scores_each_threshold_by_wrong_against_right_readings_cautioned():
    rois = [_roi("false-hard region", True, 70.0)] * 3 + [_roi("carcinoma", False, 40.0)] * 4
    result = ct.sweep(rois, colormap_for("swe"))
    by_fraction = {row["sd_fraction"]: row for row in result["grid"]}
    assert by_fraction[0.15] | {"by_kind": None} == {"sd_fraction": 0.15, "hit": 1.0, "false_alarm": 1.0, "j": 0.0,
                                                      "by_kind": None}  # fmt: skip
    # SD 40 kPa is unsure below 40 / 180 = 0.222 of the scale, SD 70 below 0.389: 0.225-0.375 separate them
    assert result["best"] == 0.225 and by_fraction[0.225]["j"] == 1.0 and by_fraction[0.375]["j"] == 1.0
    assert by_fraction[0.4]["hit"] == 0.0
    assert by_fraction[0.225]["by_kind"] == {
        "false-hard region": {"wrong": 3, "wrong_cautioned": 3, "right": 0, "right_cautioned": 0},
        "carcinoma": {"wrong": 0, "wrong_cautioned": 0, "right": 4, "right_cautioned": 0},
    }
    with pytest.raises(SystemExit, match="need wrong and right readings, got 3 wrong and 0 right"):
        ct.sweep(rois[:3], colormap_for("swe"))


def test_quality_map_takes_the_threshold_and_refuses_a_non_positive_one():
    cmap = colormap_for("swe")
    distance, sd = np.zeros((2, 2), np.float32), np.full((2, 2), 36.0, np.float32)  # 20 % of 180 kPa
    assert not quality_map(distance, cmap, sd).unsure.any()  # the app's SWE 0.25
    assert quality_map(distance, cmap, sd, sd_fraction=0.15).unsure.all()
    strain = colormap_for("strain")  # the app's strain 0.15 of its 0-1 range
    assert quality_map(distance, strain, np.full((2, 2), 0.2, np.float32)).unsure.all()
    assert not quality_map(distance, strain, np.full((2, 2), 0.1, np.float32)).unsure.any()
    with pytest.raises(ValueError, match="sd_fraction must be positive, got 0"):
        quality_map(distance, cmap, sd, sd_fraction=0)
    # with an SD map the colour-map distance is not needed (not inverting the image is the point)
    assert quality_map(None, cmap, sd).confidence.tolist() == quality_map(distance, cmap, sd).confidence.tolist()
    with pytest.raises(ValueError, match="needs a colour-map distance or an uncertainty map, got neither"):
        quality_map(None, cmap)
