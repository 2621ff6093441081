"""DICOM networking: receiver (C-ECHO, C-STORE, AE filter, failure statuses, atomic spool), sender, derived objects.

Every network test runs a real pynetdicom association on 127.0.0.1 with the listener on a free port.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt

from tests.dicom_factory import make_us_dataset
from usegan.dicomnet import contexts
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
