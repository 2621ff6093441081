"""The one intake pipeline: every path pseudonymises alike, crops the image area, calibrates in mm; raw ids stay out.

Issue 14's acceptance: a test per path (upload, DICOM upload, DICOM network, folder import, bundled sample) shows
the same pseudonym for the same Patient ID and the raw id nowhere in the database, the PDF, the audit log or the
export; the 640x480 capture is cropped to its 400x400 image area, by upload and over the network alike; a DICOM
with a region sequence is cropped to the region exactly and calibrated in mm.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tests.intake_fixtures import RAW_ID, band_capture, pixels_dataset, pixels_dicom, png_bytes
from usegan.dicomnet.derived import to_bytes
from usegan.dicomnet.ingest import ingest_spool
from usegan.dicomnet.scp import ListenerConfig, StoreListener
from usegan.dicomnet.scu import Destination, send_datasets
from usegan.imageio import ImageLoadError, load_image
from usegan.intake.pipeline import Intake, read_intake
from usegan.intake.pseudonym import pseudonym, pseudonym_key
from usegan.screencrop import CropBox, suggest_dual_crop
from usegan.services.intake import RecropView, framed_crop
from usegan.settings import get_settings
from usegan.store import ChangeRefusedError, StoreError, open_store
from usegan.store.export import export_tables
from usegan.store.intake import CaseWithdrawnError

SCANNER = "SCANNER1"


@pytest.fixture
def settings():
    return get_settings()


@pytest.fixture
def store(settings):
    with open_store(settings) as opened:
        yield opened


def small_scan(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (60, 80), dtype=np.uint8)


def send_over_network(settings, datasets) -> None:
    config = ListenerConfig.from_settings(settings, host="127.0.0.1", port=0, allowed_aes=(SCANNER,))
    with StoreListener(config) as listener:
        send_datasets(list(datasets), Destination("127.0.0.1", listener.port, "USEGAN"), calling_ae=SCANNER)


# --- one case per path ----------------------------------------------------------------------------------------
def via_upload(store, settings, tmp_path) -> str:
    intake = Intake(store, settings)
    image = intake.read(png_bytes(small_scan()), "scan.png")
    return intake.create_case(image, user="doc", organ="breast", patient_id=RAW_ID)  # typed into the form


def via_dicom_upload(store, settings, tmp_path) -> str:
    intake = Intake(store, settings)
    image = intake.read(pixels_dicom(small_scan()), "scan.dcm")
    assert image.header.patient_id == RAW_ID  # read, but only to pseudonymise it
    return intake.create_case(image, user="doc")


def via_dicom_network(store, settings, tmp_path) -> str:
    ds = pixels_dataset(small_scan())
    send_over_network(settings, [ds])
    report = ingest_spool(store, settings)
    assert len(report.imported) == 1, report.summary()
    return store.find_case_by_sop_uid(ds.SOPInstanceUID)


def via_folder_dicom(store, settings, tmp_path) -> str:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.dcm").write_bytes(pixels_dicom(small_scan()))
    report = Intake(store, settings).import_folder(folder, user="import")
    again = Intake(store, settings).import_folder(folder, user="import")
    assert len(report.imported) == 1 and again.duplicates and not again.imported
    return report.imported[0][1]


def via_folder_png(store, settings, tmp_path) -> str:
    folder = tmp_path / "pngs"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(small_scan(1)))  # other bytes than via_upload's (same bytes = same file)
    report = Intake(store, settings).import_folder(folder, user="import", patient_id=RAW_ID)
    return report.imported[0][1]


def via_sample(store, settings, tmp_path) -> str:
    from usegan.services.intake import SampleInfo

    folder = tmp_path / "case_x"
    folder.mkdir()
    (folder / "bmode.png").write_bytes(png_bytes(small_scan(2)))
    meta = {"box": {"x": 10, "y": 5, "w": 40, "h": 30}, "mm_per_px": 0.2, "modes": {}}
    sample = SampleInfo("case_x", folder, "cyst", 2, meta)
    case_id = Intake(store, settings).create_sample_case(sample, user="doc", patient_id=RAW_ID)
    assert store.get_case(case_id).pixel_spacing_mm == (0.2, 0.2)
    return case_id


PATHS = [via_upload, via_dicom_upload, via_dicom_network, via_folder_dicom, via_folder_png, via_sample]


def database_text(store) -> str:
    tables = store.query("SELECT table_name FROM duckdb_tables()")["table_name"]
    return "\n".join(store.query(f'SELECT * FROM "{name}"').to_csv() for name in tables)


def pdf_text(store, case_id: str) -> str:
    from tests.store_fixtures import reading_basis
    from usegan.report import build_report, report_data_for_case

    if "dr_pdf" not in {u.username for u in store.list_users()}:
        store.add_user("dr_pdf", "correct-horse-1", "clinician", created_by="test")
    store.save_draft(case_id, "dr_pdf", {}, None, "", expected_version=0, **reading_basis(store, case_id, by="dr_pdf"))
    pdf = build_report(report_data_for_case(store, case_id))
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def assert_raw_id_nowhere(store, case_id: str, tmp_path) -> None:
    assert RAW_ID not in database_text(store)  # every table, the audit log and the patients table included
    assert RAW_ID not in store.audit_log(limit=1000).to_csv()
    for path in export_tables(store, tmp_path / "export-out", "csv"):
        assert RAW_ID not in path.read_text(encoding="utf-8"), path.name
    text = pdf_text(store, case_id)
    assert store.get_case(case_id).patient_id in text and RAW_ID not in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
@pytest.mark.parametrize("path", PATHS, ids=lambda f: f.__name__)
def test_every_path_gives_the_same_pseudonym_and_keeps_the_raw_id_out(path, store, settings, tmp_path):
    case_id = path(store, settings, tmp_path)
    expected = pseudonym(RAW_ID, pseudonym_key(settings.data_dir))
    assert store.get_case(case_id).patient_id == expected
    assert_raw_id_nowhere(store, case_id, tmp_path)


def test_all_paths_agree_in_one_archive(store, settings, tmp_path):
    ids = set()
    for path in PATHS:
        (tmp_path / path.__name__).mkdir()
        ids.add(store.get_case(path(store, settings, tmp_path / path.__name__)).patient_id)
    assert len(ids) == 1 and ids.pop().startswith("P-")
    assert store.query("SELECT count(DISTINCT patient_id) AS n FROM cases")["n"][0] == 1


def test_raw_id_is_kept_only_with_the_setting_and_only_shown_to_allowed_roles(monkeypatch, tmp_path):
    monkeypatch.setenv("USEGAN_STORE_PATIENT_IDS", "1")
    settings = get_settings()
    with open_store(settings) as store:
        case_id = via_dicom_upload(store, settings, tmp_path)
        patient = store.get_case(case_id).patient_id
        assert patient.startswith("P-") and patient != RAW_ID
        assert store.patient_real_id(patient, "clinician") == RAW_ID
        with pytest.raises(PermissionError):
            store.patient_real_id(patient, "researcher")
        for path in export_tables(store, tmp_path / "out", "csv"):
            assert RAW_ID not in path.read_text(encoding="utf-8")
    monkeypatch.setenv("USEGAN_STORE_PATIENT_IDS", "0")
    monkeypatch.setenv("USEGAN_DATA_DIR", str(tmp_path / "other-installation"))
    with open_store(get_settings()) as store:
        case_id = via_dicom_upload(store, get_settings(), tmp_path)
        assert store.patient_real_id(store.get_case(case_id).patient_id, "admin") is None


def test_header_gives_exam_time_laterality_and_organ_on_upload(store, settings):
    intake = Intake(store, settings)
    data = pixels_dicom(small_scan(), ImageLaterality="R", BodyPartExamined="THYROID")
    case = store.get_case(intake.create_case(intake.read(data, "x.dcm"), user="doc"))
    assert (case.organ, case.side) == ("thyroid", "right")
    assert case.acquired_at.isoformat() == "2026-03-14T10:15:00"


# --- crop and calibration -------------------------------------------------------------------------------------
def test_screen_capture_upload_is_cropped_to_its_image_area():
    capture, (x, y, w, h) = band_capture()
    image = read_intake(png_bytes(capture), "capture.png")
    assert image.crop_source == "screen"
    assert image.suggested_crop.iou(CropBox(x, y, w, h)) >= 0.9, image.suggested_crop
    assert image.spacing_mm is None  # a PNG says nothing about millimetres


def test_network_dicom_without_regions_is_cropped_the_same_way(store, settings):
    capture, box = band_capture()
    ds = pixels_dataset(capture, modality="OT")
    send_over_network(settings, [ds])
    assert len(ingest_spool(store, settings).imported) == 1
    case = store.get_case(store.find_case_by_sop_uid(ds.SOPInstanceUID))
    assert CropBox(*case.crop).iou(CropBox(*box)) >= 0.9, case.crop
    assert case.crop == list(read_intake(png_bytes(capture), "same.png").suggested_crop.__dict__.values())
    assert "detected screen image area" in case.notes


def test_region_sequence_gives_the_exact_crop_and_mm_spacing(store, settings):
    capture, _ = band_capture()
    region = (83, 50, 390, 401)  # deliberately not the detector's answer: the scanner's word wins
    ds = pixels_dataset(capture, region=region, delta_cm=(0.0125, 0.01))
    send_over_network(settings, [ds])
    assert len(ingest_spool(store, settings).imported) == 1
    case = store.get_case(store.find_case_by_sop_uid(ds.SOPInstanceUID))
    assert case.crop == list(region) and (case.height, case.width) == (401, 390)
    assert case.pixel_spacing_mm == pytest.approx((0.1, 0.125)) and case.spacing_source == "region"
    upload = read_intake(to_bytes(ds), "same.dcm")
    assert upload.crop_source == "region" and upload.spacing_mm == pytest.approx((0.1, 0.125))


def test_dual_display_capture_is_split_into_bmode_and_elastogram():
    rng = np.random.default_rng(3)
    from tests.test_screencrop import speckle_image

    screen = np.full((480, 800, 3), 8, np.uint8)
    left, _ = speckle_image(300, 340, rng)
    screen[90:390, 40:380] = left[..., None]
    elasto = np.stack([left, 255 - left, np.full_like(left, 90)], axis=-1)  # strongly coloured
    screen[90:390, 420:760] = elasto
    bmode_box, elasto_box = suggest_dual_crop(screen)
    assert bmode_box.iou(CropBox(40, 90, 340, 300)) >= 0.9 and elasto_box.iou(CropBox(420, 90, 340, 300)) >= 0.9
    assert suggest_dual_crop(np.repeat(left[..., None], 3, axis=2)) is None  # a single image is not dual


# --- re-crop, withdraw, bad pixels ----------------------------------------------------------------------------
def test_recrop_derives_a_new_bmode_keeps_the_original_and_is_audited(store, settings):
    intake = Intake(store, settings)
    capture, box = band_capture()
    case_id = intake.create_case(intake.read(png_bytes(capture), "c.png"), user="doc", crop=CropBox(0, 0, 640, 240))
    before = store.get_case(case_id)
    store.add_generation(
        case_id, np.zeros((240, 640, 3), np.uint8), model_version="m", checkpoint_sha256="0" * 64, mode="strain",
        colour_scale={}, ms=None, created_by="doc",
    )  # fmt: skip
    intake.recrop(case_id, CropBox(*box), user="doc", reason="lesion was cut")
    after = store.get_case(case_id)
    assert (after.height, after.width, after.crop) == (400, 400, list(box)) and after.status == "new"
    assert after.original_sha == before.original_sha and after.previous_bmodes == [before.bmode_sha]
    assert store.latest_generation(case_id) is None  # made on the old image
    assert before.bmode_sha in store.referenced_images()  # kept (and backed up)
    row = store.audit_log(entity_id=case_id, limit=1).iloc[0]
    assert row["action"] == "case.recrop" and "lesion was cut" in row["after"]
    # the notes' image-area fact follows the image (a report prints them beside it); nothing else in them changes
    assert "crop: set by user" in before.notes and "crop: set by user" not in after.notes
    assert f"crop: re-cropped to 400 x 400 px at ({box[0]}, {box[1]}) of the original" in after.notes
    assert after.notes.replace(after.notes.split("; ")[-1], "") == before.notes.replace("crop: set by user", "")
    # the same area again: nothing to re-crop, a refusal the reader acts on (logged without a traceback)
    with pytest.raises(ChangeRefusedError, match="already has this image"):
        intake.recrop(case_id, CropBox(*box), user="doc", reason="again")
    assert len(store.audit_log(entity_id=case_id, limit=20).query("action == 'case.recrop'")) == 1


def test_framed_crop_maps_the_lesion_to_the_original_and_stays_inside_it():
    from types import SimpleNamespace

    original = SimpleNamespace(width=640, height=480)
    # the case is a half-size reading copy of its crop: 200 x 150 pixels for the 400 x 300 crop at (100, 40)
    view = RecropView("C-1", "new", original, CropBox(100, 40, 400, 300), "0")
    # lesion at x 90-99, y 60-67 of the case = x 280-299, y 160-175 of the original: centre (290, 168), longer side
    # 20, so a 60 px square around it
    assert framed_crop(view, (150, 200), CropBox(90, 60, 10, 8)) == CropBox(260, 138, 60, 60)
    whole = RecropView("C-1", "new", original, CropBox(0, 0, 640, 480), "0")
    assert framed_crop(whole, (480, 640), CropBox(630, 470, 10, 10)) == CropBox(610, 450, 30, 30)  # moved inside
    assert framed_crop(whole, (480, 640), CropBox(300, 200, 10, 10), factor=100) == CropBox(65, 0, 480, 480)
    with pytest.raises(ValueError, match="factor"):
        framed_crop(whole, (480, 640), CropBox(300, 200, 10, 10), factor=0)
    with pytest.raises(ValueError, match="cannot be framed"):
        framed_crop(whole, (480, 640), CropBox(300, 200, 0, 10))


def test_the_current_image_area_shows_beside_a_new_crop_that_coincides_with_it():
    from usegan.services.intake import CROP_COLOUR, CURRENT_CROP_COLOUR, crop_preview

    def count(image, colour):
        return int((image == [int(colour[i : i + 2], 16) for i in (1, 3, 5)]).all(axis=-1).sum())

    pixels = np.full((100, 120, 3), 90, np.uint8)
    box = CropBox(20, 10, 60, 50)
    same = crop_preview(pixels, box, current=box)  # right after a re-crop: the controls start at the current area
    assert count(same, CROP_COLOUR) > 0 and count(same, CURRENT_CROP_COLOUR) > 0
    assert (same[11, 50] == [int(CROP_COLOUR[i : i + 2], 16) for i in (1, 3, 5)]).all()  # orange: the edge, 2 px
    assert (same[12, 50] == [int(CURRENT_CROP_COLOUR[i : i + 2], 16) for i in (1, 3, 5)]).all()  # blue just inside
    assert count(crop_preview(pixels, box), CURRENT_CROP_COLOUR) == 0


def test_withdraw_hides_the_case_keeps_it_and_needs_a_reason(store, settings):
    intake = Intake(store, settings)
    case_id = intake.create_case(intake.read(png_bytes(small_scan()), "a.png"), user="doc")
    with pytest.raises(ChangeRefusedError, match="reason"):  # a ValueError too, as before
        store.withdraw_case(case_id, "", by="doc")
    store.withdraw_case(case_id, "wrong patient", by="doc")
    assert case_id not in set(store.worklist()["case_id"]) and store.counts()["total"] == 0
    case = store.get_case(case_id)
    assert case.withdrawn and case.withdraw_reason == "wrong patient" and case.bmode().shape == (60, 80)
    assert store.audit_log(entity_id=case_id, limit=1).iloc[0]["action"] == "case.withdraw"
    with pytest.raises(CaseWithdrawnError):
        intake.recrop(case_id, CropBox(0, 0, 10, 10), user="doc")


def test_a_reviewed_case_is_not_recropped(store, settings):
    store.add_user("dr", "correct-horse-1", "clinician", created_by="t")
    intake = Intake(store, settings)
    case_id = intake.create_case(intake.read(png_bytes(small_scan()), "a.png"), user="doc")
    store.save_draft(case_id, "dr", {}, None, "", expected_version=0)
    with pytest.raises(ChangeRefusedError, match="re-cropped"):
        intake.recrop(case_id, CropBox(0, 0, 10, 10), user="dr")


def test_non_finite_pixels_are_refused_with_a_clear_error(tmp_path):
    from PIL import Image

    values = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    values[3, 5] = np.nan
    path = tmp_path / "nan.tif"
    Image.fromarray(values, mode="F").save(path)
    with pytest.raises(ImageLoadError, match="not finite.*row 3, column 5"):
        load_image(path)
    with pytest.raises(ImageLoadError, match="not finite"):
        read_intake(path.read_bytes(), "nan.tif")


def test_ingest_folder_command_imports_images_and_dicom_once(settings, tmp_path, capsys):
    from usegan.cli import main

    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(png_bytes(small_scan(5)))
    (folder / "sub" / "b.dcm").write_bytes(pixels_dicom(small_scan(6)))
    (folder / "broken.png").write_bytes(b"not an image")
    assert main(["ingest", "--folder", str(folder), "--patient-id", RAW_ID]) == 1  # one file failed
    out = capsys.readouterr().out
    assert "2 imported, 0 duplicate(s), 1 failed" in out and "broken.png" in out
    assert main(["ingest", "--folder", str(folder)]) == 1
    assert "0 imported, 2 duplicate(s)" in capsys.readouterr().out
    with open_store(settings) as store:
        assert set(store.query("SELECT patient_id FROM cases")["patient_id"]) == {
            pseudonym(RAW_ID, pseudonym_key(settings.data_dir))
        }


def test_the_pseudonym_key_is_backed_up_and_restored(settings, tmp_path, monkeypatch):
    from usegan.store.backup import backup, restore, verify_backup

    with open_store(settings) as store:
        case_id = via_dicom_upload(store, settings, tmp_path)
        before = store.get_case(case_id).patient_id
        backup(store, tmp_path / "backup", by="admin")
    assert (tmp_path / "backup" / "pseudonym.key").read_bytes() == (settings.data_dir / "pseudonym.key").read_bytes()
    verify_backup(tmp_path / "backup")
    # a new machine: its own fresh key would give the patient another pseudonym; the restored key gives the same
    monkeypatch.setenv("USEGAN_DATA_DIR", str(tmp_path / "new-machine"))
    fresh = get_settings()
    pseudonym_key(fresh.data_dir)  # the new installation made a key before the restore
    restore(tmp_path / "backup", fresh.db_path, fresh.images_dir)
    with open_store(fresh) as store:
        again = Intake(store, fresh).create_case(Intake(store, fresh).read(pixels_dicom(small_scan(7)), "x.dcm"),
                                                 user="doc")  # fmt: skip
        assert store.get_case(again).patient_id == before
    (tmp_path / "backup" / "pseudonym.key").write_bytes(b"x" * 32)
    with pytest.raises(StoreError, match="pseudonym key"):
        verify_backup(tmp_path / "backup")


def test_a_box_chosen_on_the_image_shown_recrops_that_area_and_a_stale_one_is_refused(store, settings):
    from usegan.services.intake import recrop_to_box
    from usegan.store import StaleImageError

    intake = Intake(store, settings)
    capture, _ = band_capture()
    case_id = intake.create_case(intake.read(png_bytes(capture), "c.png"), user="doc", crop=CropBox(100, 40, 400, 160))
    shown = store.get_case(case_id)  # as a page (tab A and tab B) showed it
    # a 60 px square at (10, 20) of the case's B-mode is (110, 60) of the original
    recrop_to_box(store, shown, CropBox(10, 20, 60, 60), user="doc", reason="framed")
    after = store.get_case(case_id)
    assert after.crop == [110, 60, 60, 60] and np.array_equal(after.bmode(), capture[60:120, 110:170, 0])
    # the other tab's box was chosen on the image before: mapped through the new crop it would land elsewhere
    with pytest.raises(StaleImageError, match="re-cropped since this page showed it"):
        recrop_to_box(store, shown, CropBox(10, 20, 60, 60), user="doc", reason="framed")
    with pytest.raises(StaleImageError):  # the store's own check, for any caller that names the image it saw
        intake.recrop(case_id, CropBox(0, 0, 50, 50), user="doc", expected_sha=shown.bmode_sha)
    assert store.get_case(case_id).bmode_sha == after.bmode_sha  # nothing changed
    assert len(store.audit_log(entity_id=case_id, limit=20).query("action == 'case.recrop'")) == 1


def test_a_framed_recrop_of_a_case_read_from_a_large_original_lands_on_the_lesion_with_its_roi(store, settings):
    """The case is a half-size reading copy of a 2048 px capture: the box chosen on it is cut from the original's
    pixels, and the reader's lesion ROI, carried over, covers the lesion on the new image."""
    from usegan.scoring.roi import Rect, role_mask
    from usegan.services.framed import carried_rois
    from usegan.services.intake import recrop_to_box

    capture = np.full((1536, 2048), 40, np.uint8)
    capture[800:880, 1200:1280] = 230  # the lesion: 80 px of the original, 40 px of the case
    intake = Intake(store, settings)
    case_id = intake.create_case(intake.read(png_bytes(capture), "big.png"), user="doc")
    case = store.get_case(case_id)
    assert (case.height, case.width) == (768, 1024)  # the reading copy
    lesion = Rect(600, 400, 40, 40)
    box = CropBox(560, 360, 120, 120)  # 3x the lesion around it, in the case's pixels
    recrop_to_box(store, case, box, user="doc", reason="framed")
    new = store.get_case(case_id)
    assert new.crop == [1120, 720, 240, 240] and (new.height, new.width) == (240, 240)
    (moved,) = carried_rois({"lesion": lesion}, box, (new.height, new.width)).values()
    assert moved == Rect(80, 80, 80, 80)
    pixels = new.bmode()
    inside = role_mask(moved, pixels.shape[:2], "lesion")  # the lesion's inscribed ellipse: all lesion
    around = ~role_mask(Rect(76, 76, 88, 88), pixels.shape[:2], "reference")  # outside a 4 px margin: no lesion
    assert pixels[inside].min() > 200 and pixels[around].max() < 60
