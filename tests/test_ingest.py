"""Spool import: received DICOM files become de-duplicated, pseudonymised cases; bad files are quarantined."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from pydicom import dcmread

from tests.dicom_factory import expected_pixels
from tests.test_dicom_net import SCANNER, us_dataset
from usegan.cli import main
from usegan.dicomnet.derived import to_bytes
from usegan.dicomnet.ingest import ingest_spool, list_quarantine, pseudonym, requeue
from usegan.dicomnet.scp import ListenerConfig, StoreListener
from usegan.dicomnet.scu import Destination, send_datasets
from usegan.dicomnet.spool import list_spool, write_atomic
from usegan.settings import get_settings
from usegan.store import StoreError, open_store


@pytest.fixture
def settings():
    return get_settings()


@pytest.fixture
def store(settings):
    with open_store(settings) as opened:
        yield opened


def spool(settings, ds) -> None:
    write_atomic(settings.inbox_dir, f"{ds.SOPInstanceUID}.dcm", to_bytes(ds))


def dcmread_bytes(settings, sop_uid: str) -> bytes:
    """The archived file of an instance (its first copy)."""
    (path,) = settings.archive_dir.rglob(f"{sop_uid}.dcm")
    return path.read_bytes()


def n_cases(store) -> int:
    return int(store.query("SELECT count(*) AS n FROM cases")["n"][0])


def test_received_images_become_pseudonymised_cases_once(settings, store):
    single, multi, rle = us_dataset(), us_dataset(frames=3), us_dataset(compress="rle", with_regions=False)
    multi.PatientID = "PAT-002"
    single.BodyPartExamined = "THYROID"
    single.ImageLaterality = "L"
    config = ListenerConfig.from_settings(settings, host="127.0.0.1", port=0, allowed_aes=(SCANNER,))
    with StoreListener(config) as listener:
        send_datasets([single, multi, rle], Destination("127.0.0.1", listener.port, "USEGAN"), calling_ae=SCANNER)
        report = ingest_spool(store, settings)
        assert len(report.imported) == 3 and not report.quarantined and not report.error
        # The scanner sends the same image again: archived as a duplicate, no second case.
        send_datasets([single], Destination("127.0.0.1", listener.port, "USEGAN"), calling_ae=SCANNER)
    again = ingest_spool(store, settings)
    assert [case for _, case in again.duplicates] == [store.find_case_by_sop_uid(single.SOPInstanceUID)]
    assert not again.imported and n_cases(store) == 3
    assert list_spool(settings.inbox_dir) == []
    archived = sorted(p.name for p in settings.archive_dir.rglob("*.dcm"))
    assert len(archived) == 4 and f"{single.SOPInstanceUID}.1.dcm" in archived

    uids = (single.SOPInstanceUID, multi.SOPInstanceUID, rle.SOPInstanceUID)
    first, second, third = (store.get_case(store.find_case_by_sop_uid(uid)) for uid in uids)
    assert first.source == "dicom" and first.organ == "thyroid" and first.side == "left"
    assert third.organ == "breast" and "assumed breast" in third.notes
    assert "frame 1 of 3" in second.notes
    # Pseudonymous ids: stable per scanner patient, never the scanner's id itself.
    assert first.patient_id == third.patient_id != second.patient_id
    assert first.patient_id.startswith("P-") and "PHANTOM" not in first.patient_id
    assert store.patient_name(first.patient_id) is None  # names are off by default
    assert first.dicom_uids["StudyInstanceUID"] == single.StudyInstanceUID
    assert first.dicom_uids["SeriesInstanceUID"] == single.SeriesInstanceUID
    # Cropped to the scanner's declared tissue region (columns 4..59, rows 2..45 in the factory's files).
    np.testing.assert_array_equal(first.bmode(), expected_pixels()[0][2:46, 4:60])
    assert list(first.crop) == [4, 2, 56, 44]
    np.testing.assert_array_equal(third.bmode(), expected_pixels()[0])  # no region, no screen layout: whole frame
    assert third.crop == [0, 0, 64, 48] and "crop: whole image" in third.notes
    assert first.original_bytes() == dcmread_bytes(settings, single.SOPInstanceUID)
    assert dcmread(io.BytesIO(first.original_bytes())).PatientID == "PHANTOM-001"  # kept for send-back


def test_bad_files_are_quarantined_with_reason_and_can_be_requeued(settings, store):
    write_atomic(settings.inbox_dir, "1.2.3.4.dcm", b"this is not DICOM at all")
    ct = us_dataset()
    ct.Modality = "CT"
    ct.SOPClassUID = ct.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    spool(settings, ct)
    good = us_dataset()
    spool(settings, good)
    report = ingest_spool(store, settings)
    assert [name for name, _ in report.imported] == [f"{good.SOPInstanceUID}.dcm"]
    reasons = dict(report.quarantined)
    assert "not a readable DICOM file" in reasons["1.2.3.4.dcm"]
    assert "CT" in reasons[f"{ct.SOPInstanceUID}.dcm"]
    listed = {q.path.name: q.reason for q in list_quarantine(settings)}
    assert listed == reasons
    assert (settings.quarantine_dir / "1.2.3.4.dcm.reason.txt").read_text().count("not a readable") == 1
    assert n_cases(store) == 1
    back = requeue(settings.quarantine_dir / "1.2.3.4.dcm", settings)
    assert back.parent == settings.inbox_dir and not (settings.quarantine_dir / "1.2.3.4.dcm.reason.txt").exists()
    with pytest.raises(ValueError, match="quarantine"):
        requeue(back, settings)


def test_store_failure_keeps_files_waiting(settings, store):
    spool(settings, us_dataset())
    spool(settings, us_dataset())

    class BrokenStore:
        def find_case_by_sop_uid(self, uid):
            return None

        def create_case(self, *args, **kwargs):
            raise StoreError("database is busy")

    report = ingest_spool(BrokenStore(), settings)
    assert report.waiting == 2 and "database is busy" in report.error
    assert len(list_spool(settings.inbox_dir)) == 2 and not settings.quarantine_dir.exists()
    assert len(ingest_spool(store, settings, limit=1).imported) == 1
    assert len(list_spool(settings.inbox_dir)) == 1


def test_pseudonym_is_keyed_and_stable():
    assert pseudonym("PAT-001", b"k" * 32) == pseudonym("PAT-001", b"k" * 32)
    assert pseudonym("PAT-001", b"k" * 32) != pseudonym("PAT-001", b"j" * 32)
    assert pseudonym("  ", b"k" * 32) is None


def test_ingest_command(settings, capsys):
    spool(settings, us_dataset())
    assert main(["ingest"]) == 0
    assert "1 imported" in capsys.readouterr().out
    assert list_spool(settings.inbox_dir) == [] and os.listdir(settings.archive_dir)
