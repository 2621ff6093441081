"""The DICOM receiver over TLS (``dicom_tls_cert`` / ``dicom_tls_key``, and ``dicom_tls_ca`` for client
certificates): a TLS scanner's image is spooled, a plain-TCP caller gets no association, and with a CA set a caller
without a certificate signed by it is refused. Certificates are made with the ``openssl`` command."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pynetdicom import AE

from tests.intake_fixtures import pixels_dataset
from usegan.dicomnet import contexts
from usegan.dicomnet.scp import ListenerConfig, StoreListener
from usegan.dicomnet.spool import list_spool
from usegan.settings import get_settings

if shutil.which("openssl") is None:
    pytest.skip("the openssl command is not installed", allow_module_level=True)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """``ca.pem``; ``server.pem``/``server.key`` (CN and SAN localhost / 127.0.0.1) and ``client.pem``/``client.key``
    signed by it; ``stranger.pem``/``stranger.key`` self-signed."""
    root = tmp_path_factory.mktemp("pki")
    days = ["-days", "2"]
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", *days,
             "-subj", "/CN=usegan test CA", cwd=root)  # fmt: skip
    (root / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name if name == 'client' else 'localhost'}", cwd=root)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", *days, "-extfile", "san.ext", cwd=root)  # fmt: skip
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "stranger.key", "-out", "stranger.pem",
             *days, "-subj", "/CN=stranger", cwd=root)  # fmt: skip
    return root


def send(port: int, tls: ssl.SSLContext | None) -> int | None:
    """C-STORE one small image to 127.0.0.1:port as SCANNER1; the status, or ``None`` when no association."""
    ae = AE(ae_title="SCANNER1")
    ae.add_requested_context(contexts.ULTRASOUND_IMAGE_STORAGE)
    ae.acse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", port, ae_title="USEGAN", tls_args=None if tls is None else (tls, "localhost"))
    if not assoc.is_established:
        return None
    try:
        status = assoc.send_c_store(pixels_dataset(np.zeros((32, 32), np.uint8)))
        return int(status.Status) if status else None
    finally:
        assoc.release()


def client_context(pki: Path, cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki / "ca.pem"))
    if cert is not None:
        context.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    return context


def test_settings_turn_tls_on_and_a_tls_scanner_is_received(pki, tmp_path, monkeypatch):
    monkeypatch.setenv("USEGAN_DICOM_TLS_CERT", str(pki / "server.pem"))
    monkeypatch.setenv("USEGAN_DICOM_TLS_KEY", str(pki / "server.key"))
    config = ListenerConfig.from_settings(get_settings(), inbox_dir=tmp_path, port=0)
    assert config.tls_cert == pki / "server.pem" and config.tls_ca is None
    with StoreListener(config) as listener:
        assert send(listener.port, client_context(pki)) == 0x0000
        assert send(listener.port, None) is None  # plain TCP to a TLS receiver: no association
    assert len(list_spool(tmp_path)) == 1


def test_with_a_ca_only_callers_holding_a_certificate_it_signed_are_served(pki, tmp_path):
    config = ListenerConfig(inbox_dir=tmp_path, port=0, tls_cert=pki / "server.pem", tls_key=pki / "server.key",
                            tls_ca=pki / "ca.pem")  # fmt: skip
    with StoreListener(config) as listener:
        assert send(listener.port, client_context(pki)) is None  # no client certificate
        assert send(listener.port, client_context(pki, "stranger")) is None  # one the CA did not sign
        assert send(listener.port, client_context(pki, "client")) == 0x0000
    assert len(list_spool(tmp_path)) == 1


def test_tls_settings_are_checked_with_the_setting_named(pki, tmp_path):
    with pytest.raises(ValueError, match="both a certificate and its key"):
        ListenerConfig(inbox_dir=tmp_path, tls_cert=pki / "server.pem")
    with pytest.raises(ValueError, match="dicom_tls_key: no such file"):
        ListenerConfig(inbox_dir=tmp_path, tls_cert=pki / "server.pem", tls_key=pki / "missing.key")
    with pytest.raises(ValueError, match="needs TLS on"):
        ListenerConfig(inbox_dir=tmp_path, tls_ca=pki / "ca.pem")
    wrong_key = ListenerConfig(inbox_dir=tmp_path, port=0, tls_cert=pki / "server.pem", tls_key=pki / "client.key")
    with pytest.raises(ValueError, match="TLS certificate or key cannot be used"):
        StoreListener(wrong_key).start()
