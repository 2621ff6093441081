"""The DICOM receiver's defences: local bind by default, called-AE check, object size and association limits."""

from __future__ import annotations

import numpy as np
import pytest
from pynetdicom import AE

from tests.intake_fixtures import pixels_dataset
from usegan.dicomnet import contexts
from usegan.dicomnet.scp import ListenerConfig, StoreListener
from usegan.dicomnet.scu import Destination, SendError, send_datasets
from usegan.dicomnet.spool import list_spool
from usegan.settings import get_settings


def small():
    return pixels_dataset(np.zeros((32, 32), np.uint8))


def test_defaults_bind_localhost_and_check_the_called_ae(monkeypatch):
    config = ListenerConfig.from_settings(get_settings())
    assert config.host == "127.0.0.1" and config.require_called_ae and config.max_associations == 8
    assert config.max_object_bytes == 64 * 1024 * 1024
    monkeypatch.setenv("USEGAN_DICOM_HOST", "0.0.0.0")
    monkeypatch.setenv("USEGAN_DICOM_MAX_OBJECT_MB", "5")
    config = ListenerConfig.from_settings(get_settings())
    assert config.host == "0.0.0.0" and config.max_object_bytes == 5 * 1024 * 1024


def test_an_association_calling_another_ae_title_is_rejected(tmp_path):
    with StoreListener(ListenerConfig(inbox_dir=tmp_path, port=0)) as listener:
        with pytest.raises(SendError, match="no association"):
            send_datasets([small()], Destination("127.0.0.1", listener.port, "NOT-US"), calling_ae="SCANNER1")
        send_datasets([small()], Destination("127.0.0.1", listener.port, "USEGAN"), calling_ae="SCANNER1")
    assert len(list_spool(tmp_path)) == 1


def test_an_object_over_the_size_limit_is_refused_and_the_listener_keeps_serving(tmp_path):
    big = pixels_dataset(np.random.default_rng(0).integers(0, 255, (600, 800), dtype=np.uint8))  # ~480 kB
    config = ListenerConfig(inbox_dir=tmp_path, port=0, max_object_bytes=200 * 1024)
    with StoreListener(config) as listener:
        destination = Destination("127.0.0.1", listener.port, "USEGAN")
        with pytest.raises(SendError):
            send_datasets([big], destination, calling_ae="SCANNER1")
        assert list_spool(tmp_path) == [] and listener.stats.refused >= 1
        send_datasets([small(), small()], destination, calling_ae="SCANNER1")  # under the limit: accepted
    assert len(list_spool(tmp_path)) == 2


def test_associations_past_the_limit_are_rejected(tmp_path):
    with StoreListener(ListenerConfig(inbox_dir=tmp_path, port=0, max_associations=1)) as listener:
        ae = AE(ae_title="SCANNER1")
        ae.add_requested_context(contexts.VERIFICATION)
        first = ae.associate("127.0.0.1", listener.port, ae_title="USEGAN")
        try:
            assert first.is_established
            second = ae.associate("127.0.0.1", listener.port, ae_title="USEGAN")
            assert not second.is_established
        finally:
            first.release()
