"""Real elastograms in: uploaded with their B-mode (two files or one dual-display capture), read with the scanner's
colour map, stored in the product's; signed, such a case becomes a training pair and a fine-tune runs from it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.intake_fixtures import png_bytes
from tests.optimize_fixtures import (
    PASSWORD,
    fast_hasher_fixture,  # noqa: F401  (fixture)
    make_phantoms,
    tiny_checkpoint,
)
from tests.store_fixtures import reading_basis
from tests.test_optimize import FAST
from tests.test_screencrop import speckle_image
from usegan.cli import main
from usegan.colormaps import colormap_for
from usegan.intake.elastogram import create_pair_case, read_pair
from usegan.intake.pipeline import Intake
from usegan.intake.scanner_maps import SCANNER_MAPS, map_from_colour_bar
from usegan.settings import get_settings
from usegan.store import open_store

STRAIN_RED_SOFT = "Strain: red = soft, blue = hard (Hitachi/Fujifilm style)"
SWE_100 = "SWE 0-100 kPa: blue = soft, red = stiff"


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def kpa_field(shape=(64, 80)) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (10 + 80 * xx / (shape[1] - 1) + 5 * (yy > shape[0] // 2)).astype(np.float32)  # 10 .. 95 kPa


def test_scanner_maps_decode_their_own_colours():
    values = np.tile(np.linspace(0, 1, 50, dtype=np.float32), (4, 1))
    red_soft = SCANNER_MAPS[STRAIN_RED_SOFT]
    blue_soft = SCANNER_MAPS["Strain: blue = soft, red = hard"]
    drawn = colormap_for("strain").apply(values)
    assert np.allclose(red_soft.decode(drawn), values, atol=0.01)
    assert np.allclose(blue_soft.decode(drawn), 1 - values, atol=0.01)  # the same colours mean the opposite
    gray = np.full((4, 4, 3), 128, np.uint8)
    assert np.isnan(red_soft.decode(gray)).all()  # B-mode gray is on no colour of the map


def test_a_map_built_from_a_crop_of_the_colour_bar_reads_values():
    lut = colormap_for("swe").lut
    bar = np.repeat(lut[::-1][:, None, :], 14, axis=1)  # vertical, high value at the top
    bar[::32, :3] = 255  # tick marks on the bar's edge
    scanner = map_from_colour_bar(bar, "swe", 0, 100, low_at="bottom")
    kpa = kpa_field()
    drawn = SCANNER_MAPS[SWE_100].lut[np.rint(kpa / 100 * 255).astype(int)]
    assert np.nanmax(np.abs(scanner.decode(drawn) - kpa)) < 1.5
    with pytest.raises(ValueError, match="colour bar"):
        map_from_colour_bar(np.full((64, 10, 3), 90, np.uint8), "swe", 0, 100)


def test_two_files_become_a_case_with_its_real_elastogram_in_product_colours(store_env):
    store, intake = store_env
    kpa = kpa_field()
    bmode, _ = speckle_image(64, 80, np.random.default_rng(0))
    scanner = SCANNER_MAPS[SWE_100]
    elasto = scanner.lut[np.rint(kpa / 100 * 255).astype(int)]
    pair = read_pair(intake, png_bytes(bmode), "b.png", png_bytes(elasto), "e.png")
    case_id, elastogram_id = create_pair_case(intake, pair, scanner, user="dr_a", patient_id="MRN-1")
    (stored,) = store.real_elastograms(case_id)
    assert stored["elastogram_id"] == elastogram_id and stored["mode"] == "swe"
    rgb = store.images.get(stored["elasto_sha"])
    assert rgb.shape == (64, 80, 3)
    product_kpa, _ = colormap_for("swe").invert(rgb)  # stored on the product's 0-180 kPa scale
    assert np.nanmax(np.abs(product_kpa - kpa)) < 2.0
    assert json.loads(stored["colour_scale"])["scanner_map"] == SWE_100
    gray_elasto = np.repeat(bmode[..., None], 3, axis=2)
    wrong = read_pair(intake, png_bytes(bmode), "b.png", png_bytes(gray_elasto), "not-an-elastogram.png")
    with pytest.raises(ValueError, match="match no colour"):
        create_pair_case(intake, wrong, scanner, user="dr_a")
    with pytest.raises(ValueError, match="same size"):
        read_pair(intake, png_bytes(bmode), "b.png", png_bytes(elasto[:30]), "small.png")


def test_a_dual_display_capture_is_split_automatically(store_env):
    store, intake = store_env
    screen = np.full((480, 800, 3), 8, np.uint8)
    bmode, _ = speckle_image(300, 340, np.random.default_rng(3))
    screen[90:390, 40:380] = bmode[..., None]
    strain = np.clip(np.linspace(0, 1, 340)[None, :] + 0 * bmode, 0, 1)
    screen[90:390, 420:760] = colormap_for("strain").apply(strain)
    pair = read_pair(intake, png_bytes(screen), "dual.png")
    assert pair.layout == "dual capture" and pair.elastogram.shape == (300, 340, 3)
    case_id, _ = create_pair_case(intake, pair, SCANNER_MAPS[STRAIN_RED_SOFT], user="dr_a")
    case = store.get_case(case_id)
    assert (case.height, case.width) == (300, 340) and abs(int(case.bmode()[150, 170]) - int(bmode[150, 170])) <= 1


@pytest.fixture
def store_env(fast_hasher):
    with open_store(get_settings()) as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        yield store, Intake(store, get_settings())


def test_signed_cases_with_an_uploaded_real_elastogram_feed_a_finetune(tmp_path, monkeypatch, fast_hasher, capsys):
    model_dir = tmp_path / "models"
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(model_dir))
    tiny_checkpoint(model_dir / "usegan-strain-tiny.pt", "tiny-base")
    phantoms = sorted(p for p in make_phantoms(tmp_path / "scans", 8, seed=11).iterdir() if p.is_dir())
    with open_store(get_settings()) as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        intake = Intake(store, get_settings())
        case_ids = []
        for folder, pid in zip(phantoms, [f"MRN-{i}" for i in range(8)], strict=True):  # pseudonymised on upload
            # what a department uploads: the scanner's B-mode export and its strain elastogram export
            pair = read_pair(intake, (folder / "bmode.png").read_bytes(), "bmode.png",
                             (folder / "strain.png").read_bytes(), "strain.png")  # fmt: skip
            case_id, _ = create_pair_case(intake, pair, SCANNER_MAPS[STRAIN_RED_SOFT], user="dr_a", patient_id=pid)
            case = store.get_case(case_id)
            rois = {"lesion": {"type": "rect", "x": case.width // 4, "y": case.height // 4,
                               "w": case.width // 2, "h": case.height // 2}}  # fmt: skip
            basis = reading_basis(store, case_id, "strain")  # the virtual elastogram and proposal it was read on
            review = store.save_draft(case_id, "dr_a", rois, 3, "read", expected_version=0, **basis)
            store.sign(case_id, "dr_a", expected_version=review.row_version)
            case_ids.append(case_id)
    assert main(["finetune", "--from-store", "--mode", "strain", *FAST]) == 0
    version = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["candidate"]
    with open_store(get_settings()) as store:
        record = store.registry.get(version)
        used = set(record.card["pairs"]["train"]) | set(record.card["pairs"]["validation"])
        assert used == set(case_ids) and record.card["pairs"]["train"]  # every uploaded case, split by patient
        assert record.status == "candidate"
