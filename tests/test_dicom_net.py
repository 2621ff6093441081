"""DICOM networking: receiver (C-ECHO, C-STORE, AE filter, failure statuses, atomic spool), sender, derived objects.

Every network test runs a real pynetdicom association on 127.0.0.1 with the listener on a free port.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import threading
import time

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt

from tests.dicom_factory import make_us_dataset
from tests.store_fixtures import fast_hasher_fixture, store_fixture  # noqa: F401  (fixtures)
from usegan.cli import main
from usegan.dicomnet import contexts
from usegan.dicomnet.derived import StudyRef, build_encapsulated_pdf, build_secondary_capture, to_bytes
from usegan.dicomnet.scp import ListenerConfig, StoreListener
from usegan.dicomnet.scu import Destination, SendError, echo, send_datasets
from usegan.dicomnet.spool import list_spool, remove_stale_parts, spool_name, write_atomic
from usegan.settings import get_settings

SCANNER = "SCANNER1"


def us_dataset(**kwargs) -> Dataset:
    """A small valid ultrasound dataset from the shared factory (known pixels, fresh UIDs)."""
    return make_us_dataset(**kwargs)


@pytest.fixture
def listener(tmp_path):
    config = ListenerConfig(inbox_dir=tmp_path / "inbox", host="127.0.0.1", port=0, allowed_aes=(SCANNER,))
    with StoreListener(config) as running:
        yield running


def dest(listener: StoreListener) -> Destination:
    return Destination("127.0.0.1", listener.port, "USEGAN")


def test_echo_answers_and_unknown_ae_is_refused(listener):
    assert echo(dest(listener), calling_ae=SCANNER)
    assert not echo(dest(listener), calling_ae="INTRUDER")
    with pytest.raises(SendError, match="no association"):
        send_datasets([us_dataset()], dest(listener), calling_ae="INTRUDER")
    assert list_spool(listener.config.inbox_dir) == []
    assert listener.stats.echoes == 1


@pytest.mark.parametrize(
    "kind",
    [
        dict(),
        dict(frames=4),
        dict(compress="rle"),
        dict(compress="jpeg"),
        dict(frames=2, photometric="RGB", compress="rle"),
        dict(photometric="YBR_FULL_422"),
        dict(modality="OT"),  # a Secondary Capture screen grab
    ],
    ids=["single-frame", "multi-frame", "rle", "jpeg-baseline", "rgb-multi-rle", "ybr422", "secondary-capture"],
)
def test_store_spools_complete_object(listener, kind):
    sent = us_dataset(**kind)
    results = send_datasets([sent], dest(listener), calling_ae=SCANNER)
    assert [r.status for r in results] == [0]
    (path,) = list_spool(listener.config.inbox_dir)
    assert path.name == spool_name(sent.SOPInstanceUID)
    got = dcmread(path)
    assert got.SOPInstanceUID == sent.SOPInstanceUID and got.SOPClassUID == sent.SOPClassUID
    assert got.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID
    assert got.PixelData == sent.PixelData  # byte for byte, compressed or not


def test_duplicate_send_leaves_one_spool_file(listener):
    ds = us_dataset()
    send_datasets([ds], dest(listener), calling_ae=SCANNER)
    send_datasets([ds], dest(listener), calling_ae=SCANNER)
    assert len(list_spool(listener.config.inbox_dir)) == 1
    assert listener.stats.received == 2


def test_malformed_objects_get_failure_status_and_nothing_written(listener, caplog):
    truncated = us_dataset()
    truncated.PixelData = truncated.PixelData[:100]
    no_pixels = us_dataset()
    del no_pixels.PixelData
    with caplog.at_level("WARNING", logger="usegan.dicomnet.scp"):
        results = send_datasets([truncated, no_pixels], dest(listener), calling_ae=SCANNER, raise_on_failure=False)
    assert [r.status for r in results] == [contexts.STATUS_CANNOT_UNDERSTAND] * 2
    assert "pixel data is 100 bytes" in results[0].comment
    assert "no pixel data" in results[1].comment
    assert "refused C-STORE" in caplog.text
    assert os.listdir(listener.config.inbox_dir) == []


def test_unwritable_spool_fails_with_out_of_resources_then_retry_succeeds(tmp_path):
    inbox = tmp_path / "inbox"
    config = ListenerConfig(inbox_dir=inbox, host="127.0.0.1", port=0)
    ds = us_dataset()
    with StoreListener(config) as running:
        # Root ignores permission bits, so make the spool unusable in a way root cannot ignore as well.
        inbox.rmdir()
        inbox.write_bytes(b"not a folder")
        if os.geteuid() != 0:
            inbox.unlink()
            inbox.mkdir(mode=0o555)
        results = send_datasets([ds], dest(running), calling_ae=SCANNER, raise_on_failure=False)
        assert results[0].status == contexts.STATUS_OUT_OF_RESOURCES
        assert "spool not writable" in results[0].comment
        # The scanner kept the image; once the spool is fixed its retry lands.
        if inbox.is_dir():
            inbox.chmod(0o755)
        else:
            inbox.unlink()
        assert send_datasets([ds], dest(running), calling_ae=SCANNER)[0].ok
    assert [p.name for p in list_spool(inbox)] == [spool_name(ds.SOPInstanceUID)]


def test_association_dropped_mid_transfer_leaves_no_file(tmp_path):
    config = ListenerConfig(inbox_dir=tmp_path / "inbox", host="127.0.0.1", port=0, max_pdu=16_384)
    big = us_dataset(frames=20, rows=64, columns=128, with_regions=False)  # ~160 kB: about ten P-DATA PDUs
    with StoreListener(config) as running:
        sent_pdata = []

        def drop_after_three(event):
            if type(event.pdu).__name__ == "P_DATA_TF":
                sent_pdata.append(1)
                if len(sent_pdata) == 3:  # pull the plug: the peer sees a bare TCP close mid-dataset
                    event.assoc.dul.socket.socket.shutdown(socket.SHUT_RDWR)

        ae = AE(ae_title=SCANNER)
        ae.add_requested_context(big.SOPClassUID, ExplicitVRLittleEndian)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
        assoc = ae.associate(
            "127.0.0.1", running.port, ae_title="USEGAN", evt_handlers=[(evt.EVT_PDU_SENT, drop_after_three)]
        )
        assert assoc.is_established
        try:
            status = assoc.send_c_store(big)
        except Exception:  # the sender may notice the dead socket either way
            status = Dataset()
        assoc.abort()
        deadline = time.monotonic() + 10
        while running.active_associations and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sent_pdata) >= 3
        assert "Status" not in status
        assert running.active_associations == 0
        assert running.stats.received == 0
        assert os.listdir(config.inbox_dir) == []  # no spool file, no .part file


def test_write_atomic_leaves_nothing_on_failure_and_cleans_stale_parts(tmp_path, monkeypatch):
    class Boom(Exception):
        pass

    def failing_fsync(fd):
        raise Boom("disk vanished")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Boom):
        write_atomic(tmp_path, "a.dcm", b"x" * 1000)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    stale = tmp_path / ".b.dcm.0123.part"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".c.dcm.4567.part"
    fresh.write_bytes(b"being written")
    assert remove_stale_parts(tmp_path, older_than_s=3600) == 1
    assert sorted(os.listdir(tmp_path)) == [fresh.name]
    assert list_spool(tmp_path) == []  # temporary files are never offered to the importer


@pytest.mark.parametrize("bad", ["../../etc/passwd", "1.2.3/4", "", "1.2.x", "1" * 65])
def test_spool_name_refuses_non_uids(bad):
    with pytest.raises(ValueError, match="not a valid SOP Instance UID"):
        spool_name(bad)


def test_listener_config_validation_and_settings(monkeypatch):
    with pytest.raises(ValueError, match="AE title"):
        ListenerConfig(inbox_dir=".", ae_title="THIS-AE-TITLE-IS-TOO-LONG")
    with pytest.raises(ValueError, match="port"):
        ListenerConfig(inbox_dir=".", port=70000)
    monkeypatch.setenv("USEGAN_DICOM_ALLOWED_AES", "US1, US2")
    monkeypatch.setenv("USEGAN_DICOM_AE_TITLE", "ELASTO")
    config = ListenerConfig.from_settings(get_settings(), port=0)
    assert config.allowed_aes == ("US1", "US2")
    assert config.ae_title == "ELASTO" and config.port == 0
    assert config.inbox_dir == get_settings().inbox_dir


def test_destination_parse():
    assert Destination.parse("pacs:104:PACS") == Destination("pacs", 104, "PACS")
    assert Destination.parse("10.0.0.5:11112", ae_title="SCANNER") == Destination("10.0.0.5", 11112, "SCANNER")
    for bad in ["pacs", "pacs:port:AE", "pacs:104"]:
        with pytest.raises(ValueError, match="destination"):
            Destination.parse(bad)


# --- send-back: SC + Encapsulated PDF into the original study ------------------------------------------------


@pytest.fixture
def pacs():
    """A stand-in PACS on 127.0.0.1 that accepts SC and Encapsulated PDF and keeps what it receives."""
    received: list[Dataset] = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        return 0x0000

    ae = AE(ae_title="PACS")
    for sop_class in (contexts.SECONDARY_CAPTURE_IMAGE_STORAGE, contexts.ENCAPSULATED_PDF_STORAGE):
        ae.add_supported_context(sop_class, ExplicitVRLittleEndian)
    ae.add_supported_context(contexts.VERIFICATION)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    yield Destination("127.0.0.1", server.server_address[1], "PACS"), received
    server.shutdown()


def dicom_case(store, settings) -> tuple[str, Dataset]:
    """A case imported from a received file, with one generated strain elastogram."""
    from usegan.dicomnet.ingest import ingest_spool

    original = us_dataset()
    write_atomic(settings.inbox_dir, spool_name(original.SOPInstanceUID), to_bytes(original))
    ((_, case_id),) = ingest_spool(store, settings).imported
    elasto = np.random.default_rng(0).integers(0, 256, (44, 56, 3), dtype=np.uint8)
    store.add_generation(
        case_id,
        elasto,
        model_version="strain-test-1",
        checkpoint_sha256="0" * 64,
        mode="strain",
        colour_scale={"vmin": 0, "vmax": 1, "unit": "relative strain"},
        ms=1.0,
        created_by="dr_a",
    )
    return case_id, original


def test_secondary_capture_and_pdf_are_marked_and_join_the_study():
    original = us_dataset()
    study = StudyRef.from_dataset(original)
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    sc = dcmread(io.BytesIO(to_bytes(build_secondary_capture(rgb, study, model_version="v9", mode="swe"))))
    assert sc.StudyInstanceUID == original.StudyInstanceUID and sc.PatientID == original.PatientID
    assert sc.SeriesInstanceUID != original.SeriesInstanceUID
    assert list(sc.ImageType) == ["DERIVED", "SECONDARY"]
    assert sc.SeriesDescription == "VIRTUAL elastogram (USE-GAN v9)"
    assert "not a measurement" in sc.DerivationDescription and "shear-wave" in sc.DerivationDescription
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
    pixels = sc.pixel_array
    assert pixels.shape == (20 + 16, 30, 3) and sc.BurnedInAnnotation == "YES"
    np.testing.assert_array_equal(pixels[16:], rgb)
    assert (pixels[:16] > 200).sum() > 20  # white text of the burned-in "VIRTUAL" label on black
    plain = build_secondary_capture(rgb, study, model_version="v9", mode="strain", burn_in_label=False)
    np.testing.assert_array_equal(plain.pixel_array, rgb)
    pdf = dcmread(io.BytesIO(to_bytes(build_encapsulated_pdf(b"%PDF-1.4 odd", study))))
    assert pdf.Modality == "DOC" and pdf.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert pdf.EncapsulatedDocument[: pdf.EncapsulatedDocumentLength] == b"%PDF-1.4 odd"
    with pytest.raises(ValueError, match="uint8 RGB"):
        build_secondary_capture(rgb[..., 0], study, model_version="v9", mode="strain")
    with pytest.raises(ValueError, match="mode"):
        build_secondary_capture(rgb, study, model_version="v9", mode="doppler")
    with pytest.raises(ValueError, match="not a PDF"):
        build_encapsulated_pdf(b"hello", study)


def test_send_case_files_elastogram_then_signed_report_into_the_study(store, pacs):
    from usegan.dicomnet.sendback import send_case

    destination, received = pacs
    settings = get_settings()
    case_id, original = dicom_case(store, settings)
    first = send_case(store, case_id, destination)
    assert not first.report_sent and [r.ok for r in first.results] == [True]
    (sc,) = received
    assert sc.SOPClassUID == contexts.SECONDARY_CAPTURE_IMAGE_STORAGE
    assert sc.StudyInstanceUID == original.StudyInstanceUID and sc.PatientID == "PHANTOM-001"
    assert sc.SeriesDescription == "VIRTUAL elastogram (USE-GAN strain-test-1)"
    np.testing.assert_array_equal(sc.pixel_array[16:], store.latest_generation(case_id).elastogram())

    generation = store.latest_generation(case_id)
    shown = store.add_prescore(
        case_id, generation.generation_id, {"system": "tsukuba", "score": 3}, {}, created_by="dr_a"
    )
    review = store.save_draft(
        case_id, "dr_a", {"lesion": [1, 2, 3, 4]}, 3, "Tsukuba 3", expected_version=0,
        generation_id=generation.generation_id, prescore_id=shown,
    )  # fmt: skip
    review = store.sign(case_id, "dr_a", expected_version=review.row_version)
    store.add_report(case_id, review.review_id, b"%PDF-1.4 signed report", created_by="dr_a")
    received.clear()
    second = send_case(store, case_id, destination)
    assert second.report_sent and all(r.ok for r in second.results)
    sc, pdf = received
    assert pdf.SOPClassUID == contexts.ENCAPSULATED_PDF_STORAGE
    assert pdf.StudyInstanceUID == original.StudyInstanceUID
    assert pdf.EncapsulatedDocument.rstrip(b"\0") == b"%PDF-1.4 signed report"
    assert len({sc.SeriesInstanceUID, pdf.SeriesInstanceUID, original.SeriesInstanceUID}) == 3


def test_send_case_refuses_cases_without_a_study(store, pacs):
    from usegan.dicomnet.sendback import SendBackError, send_case

    upload = store.create_case(np.zeros((16, 16), np.uint8), organ="breast", created_by="dr_a")
    with pytest.raises(SendBackError, match="did not arrive over DICOM"):
        send_case(store, upload, pacs[0])
    original = us_dataset()
    write_atomic(get_settings().inbox_dir, spool_name(original.SOPInstanceUID), to_bytes(original))
    from usegan.dicomnet.ingest import ingest_spool

    ((_, case_id),) = ingest_spool(store, get_settings()).imported
    with pytest.raises(SendBackError, match="no generated elastogram"):
        send_case(store, case_id, pacs[0])
    assert pacs[1] == []


def test_cli_send_echo_and_listen(store, pacs, capsys):
    destination, received = pacs
    case_id, _ = dicom_case(store, get_settings())
    store.close()  # the CLI opens the database itself, as it would with the app stopped
    to = f"127.0.0.1:{destination.port}"
    assert main(["dicom", "send", case_id, "--to", to, "--ae-title", "PACS"]) == 0
    assert "1/1 objects accepted" in capsys.readouterr().out and len(received) == 1
    assert main(["dicom", "echo", "--to", f"{to}:PACS"]) == 0
    assert main(["dicom", "send", "C-nope", "--to", to, "--ae-title", "PACS"]) == 2
    assert main(["dicom", "send", case_id, "--to", "nohost"]) == 2

    with socket.socket() as probe:  # a free port for the listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    here = Destination("127.0.0.1", port, "USEGAN")
    sent, outcome = us_dataset(), []

    def scanner():  # runs beside the listener, then stops it the way systemd does
        try:
            deadline = time.monotonic() + 20
            while not echo(here, calling_ae=SCANNER, timeout_s=1) and time.monotonic() < deadline:
                time.sleep(0.1)
            outcome.append(send_datasets([sent], here, calling_ae=SCANNER)[0].ok)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=scanner)
    thread.start()
    args = ["dicom", "listen", "--host", "127.0.0.1", "--port", str(port), "--allow", SCANNER, "--duration", "60"]
    assert main(args) == 0  # in the main thread, where the SIGTERM handler lives
    thread.join(timeout=30)
    assert outcome == [True]
    assert [p.name for p in list_spool(get_settings().inbox_dir)] == [spool_name(sent.SOPInstanceUID)]
    assert "1 received" in capsys.readouterr().out
    assert main(["dicom", "listen", "--ae-title", "WAY-TOO-LONG-AE-TITLE"]) == 2


def test_end_to_end_received_image_is_generated_reviewed_signed_and_sent_back(store, pacs, tmp_path):
    """Scanner -> listener -> spool -> ingest -> generation -> proposal -> signed review -> PDF -> PACS."""
    from tests.app_fixtures import tiny_checkpoint
    from usegan.dicomnet.ingest import ingest_spool
    from usegan.dicomnet.sendback import send_case
    from usegan.inference import VirtualElastographer
    from usegan.scoring.roi import Rect
    from usegan.services.reporting import report_pdf
    from usegan.services.service import generate_for_case, open_case, save_review, score_rois

    settings = get_settings()
    destination, received = pacs
    scan = us_dataset(rows=96, columns=128)
    scan.BodyPartExamined = "BREAST"
    config = ListenerConfig.from_settings(settings, host="127.0.0.1", port=0, allowed_aes=(SCANNER,))
    with StoreListener(config) as listener:
        send_datasets([scan], Destination("127.0.0.1", listener.port, "USEGAN"), calling_ae=SCANNER)
    ((_, case_id),) = ingest_spool(store, settings).imported

    model = VirtualElastographer.from_checkpoint(tiny_checkpoint(tmp_path / "tiny.pt", "strain", "tiny-e2e"))
    generation = generate_for_case(store, case_id, model, "dr_a")
    view = open_case(store, case_id, "strain")
    rois = {"lesion": Rect(30, 30, 40, 30), "reference": Rect(5, 5, 20, 20)}
    proposal = score_rois(view.elasto, "strain", generation.colour_scale, rois, view.case.organ)
    review = save_review(store, view, "dr_a", rois, 3, "Tsukuba 3 (virtual)", proposal=proposal, action="sign")
    assert review.is_signed
    pdf = report_pdf(store, open_case(store, case_id, "strain"), user="dr_a")

    sent = send_case(store, case_id, destination)
    assert sent.report_sent and all(r.ok for r in sent.results)
    sc, document = received
    assert sc.StudyInstanceUID == document.StudyInstanceUID == scan.StudyInstanceUID
    assert sc.PatientID == scan.PatientID  # the PACS files it with the real patient, the store keeps a pseudonym
    assert view.case.patient_id != scan.PatientID
    assert sc.SeriesDescription == "VIRTUAL elastogram (USE-GAN tiny-e2e)"
    np.testing.assert_array_equal(sc.pixel_array[16:], generation.elastogram())
    assert document.EncapsulatedDocument[: document.EncapsulatedDocumentLength] == pdf
