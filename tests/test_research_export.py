"""The research export: tables with ROI coordinates, every figure, generation, checkpoint hash, mode, scale and
blinded flag; images and masks; no patient identifiers; it loads back (CSV and Parquet) with its types."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.research_fixtures import LESION, NOTES, ORIGINAL_NAME, PATIENT_ID, research_archive
from tests.store_fixtures import fast_hasher_fixture, store_fixture  # noqa: F401 (pytest fixtures)
from usegan.research import stats
from usegan.research.export import READING_COLUMNS, SESSION_COLUMNS, export_research, load_export


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_round_trips_with_images_masks_and_no_identifiers(store, tmp_path, fmt):
    cases = research_archive(store)
    out = export_research(store, tmp_path / "export", fmt)
    data = load_export(out)
    readings = data.readings.set_index("case_id").loc[cases]
    assert list(data.readings.columns[: len(READING_COLUMNS)]) == READING_COLUMNS
    assert readings["proposed_score"].tolist() == [5, 5, 1, 1] and readings["confirmed_score"].tolist() == [5, 4, 1, 2]
    assert set(readings["scale"]) == {"tsukuba"} and set(readings["mode"]) == {"strain"}
    assert set(readings["lesion_type"]) == {"malignant"}
    assert set(readings["checkpoint_sha256"]) == {"ab" * 32} and readings["generation_id"].str.startswith("G-").all()
    assert readings["reader"].tolist() == ["R1", "R1", "R2", "R2"] and not readings["blinded"].any()
    first = readings.iloc[0]
    assert (first.lesion_x, first.lesion_y, first.lesion_w, first.lesion_h) == (10, 10, 12, 10)
    assert (first.reference_x, first.reference_y, first.reference_w, first.reference_h) == (30, 2, 10, 6)
    assert json.loads(first.lesion_roi) == LESION
    figures = json.loads(first.figures)
    assert figures and first[f"fig_{next(k for k, v in figures.items() if isinstance(v, float))}"] is not None
    # images and masks
    bmode = data.image(first.bmode_path)
    mask = data.image(first.lesion_mask_path)
    assert bmode.shape == (40, 48) and mask.shape == (40, 48) and int((mask > 0).sum()) == 12 * 10
    virtual = Image.open(out / first.virtual_path)
    assert virtual.text["usegan:model_version"] == "research-v1" and "VIRTUAL" in virtual.text["Description"]
    assert isinstance(first.real_path, str) and np.asarray(Image.open(out / first.real_path)).shape == (40, 48, 3)
    assert not isinstance(readings.iloc[1].real_path, str)  # no real elastogram attached to that case
    # blinded sessions: one row per phase
    sessions = data.reader_sessions
    assert list(sessions.columns) == SESSION_COLUMNS and len(sessions) == 4
    assert sessions["blinded"].tolist() == [True, False, True, False]
    assert sessions["reader_score"].tolist() == [3, 5, 2, 2] and sessions["seconds"].tolist() == [41.5, 12.0, 30, 8]
    assert stats.proposal_shift(sessions)["moved_to_proposal"] == 1
    # nothing that identifies a patient, anywhere in the folder
    for path in out.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            for secret in (PATIENT_ID, ORIGINAL_NAME, "Smith", NOTES, "dr_a", "dr_b", "report text"):
                assert secret.encode() not in blob, (secret, path)


def test_export_refuses_a_used_folder_and_an_unknown_format(store, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not empty"):
        export_research(store, tmp_path / "used")
    with pytest.raises(ValueError, match="format must be one of"):
        export_research(store, tmp_path / "new", "xlsx")
    with pytest.raises(FileNotFoundError, match="not a usegan research export"):
        load_export(tmp_path / "used")
    assert (tmp_path / "used" / "x.txt").read_text() == "keep me"


def test_export_without_images_and_of_an_empty_store(store, tmp_path):
    data = load_export(export_research(store, tmp_path / "empty", "csv"))
    assert data.readings.empty and data.reader_sessions.empty
    research_archive(store)
    data = load_export(export_research(store, tmp_path / "tables", "parquet", images=False))
    assert len(data.readings) == 4 and data.readings["bmode_path"].isna().all()
    assert not (tmp_path / "tables" / "images").exists()
    with pytest.raises(ValueError, match="no image path"):
        data.image(data.readings["bmode_path"].iloc[0])


def test_cli_writes_the_research_export_and_refuses_a_used_folder(store, tmp_path, capsys):
    from usegan.cli import main

    research_archive(store)
    store.close()
    out = tmp_path / "cli-export"
    assert main(["export", "--research", "--format", "csv", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "readings.csv" in printed and "schema.json" in printed
    assert len(load_export(out).readings) == 4 and (out / "masks").is_dir()
    assert main(["export", "--research", "--out", str(out)]) == 2  # one clear line, nothing overwritten
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_carries_the_stored_uncertainty_and_the_error_where_the_truth_is_known(store, tmp_path, fmt):
    from tests.research_fixtures import HARD, SOFT, signed_case, uncertainty_map

    cases = research_archive(store)
    old = signed_case(store, "dr_a", HARD, 5, version="research-v0")  # a generation without a map
    data = load_export(export_research(store, tmp_path / "export", fmt))
    readings = data.readings.set_index("case_id")
    step = 0.4 / 65535  # the largest map's quantisation step
    lesion_sd = readings.loc[cases, "lesion_uncertainty"].to_numpy()
    assert np.allclose(lesion_sd, [0.05, 0.3, 0.1, 0.4], atol=step)  # mean SD over the scored lesion
    assert np.allclose(readings.loc[cases, "lesion_uncertainty_position"], lesion_sd)  # strain scale span 1
    truth = readings.loc[cases[0]]  # the one case with a real elastogram: soft, the virtual one hard
    assert truth.lesion_virtual_mean == pytest.approx(HARD / 255, abs=1e-6)
    assert truth.lesion_real_mean == pytest.approx(SOFT / 255, abs=1e-6)
    assert truth.lesion_error_position == pytest.approx((SOFT - HARD) / 255, abs=1e-6)
    assert readings.loc[cases[1:], "lesion_error_position"].isna().all()  # no truth there
    assert readings.loc[old, ["lesion_uncertainty", "lesion_uncertainty_position"]].isna().all()
    assert not isinstance(readings.loc[old, "uncertainty_path"], str)
    sd = data.uncertainty(readings.loc[cases[3], "uncertainty_path"])
    assert sd.shape == (40, 48) and np.abs(sd - uncertainty_map(0.4)).max() <= step
    with pytest.raises(ValueError, match="predicts none"):
        data.uncertainty(readings.loc[old, "uncertainty_path"])
    # the statistics run on what was exported
    calibration = stats.uncertainty_calibration(data.readings, bins=2)
    assert calibration["n"].sum() == 4 and calibration["disagreement"].tolist() == [0.0, 1.0]
    errors = stats.error_calibration(data.readings)
    assert errors["n"].tolist() == [1] and errors["rms_over_uncertainty"].iloc[0] == pytest.approx(0.588 / 0.05, 0.01)
