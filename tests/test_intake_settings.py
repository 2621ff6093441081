"""The README names only settings the code reads, and names every intake setting; ``usegan serve`` reads its
address from the settings when no option gives it."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

from usegan.commands.serve import streamlit_argv, web_address
from usegan.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
INTAKE_SETTINGS = (
    "samples_dir", "max_image_pixels", "max_upload_mb", "store_patient_ids", "store_patient_names",
    "worker_interval_s", "dicom_ae_title", "dicom_port", "dicom_host", "dicom_allowed_aes",
    "dicom_require_called_ae", "dicom_max_object_mb", "dicom_max_associations", "dicom_tls_cert", "dicom_tls_key",
    "dicom_tls_ca", "dicom_destination",
)  # fmt: skip


def _code() -> str:
    files = [*(ROOT / "usegan").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py", ROOT / "serve.py"]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.name != "settings.py")


def test_every_setting_the_readme_names_is_read_by_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"USEGAN_([A-Z0-9_]+)", readme)) - {"CONFIG"}  # USEGAN_CONFIG: the TOML file's path
    known = {f.name for f in fields(Settings)}
    code = _code()
    for name in sorted(named):
        field = name.lower()
        assert field in known, f"README names USEGAN_{name}, which is no setting"
        assert field == "data_dir" or re.search(rf"\.{field}\b", code), f"USEGAN_{name} is read by no code"


def test_the_readme_names_every_intake_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    known = {f.name for f in fields(Settings)}
    for field in INTAKE_SETTINGS:
        assert field in known
        assert f"USEGAN_{field.upper()}" in readme, f"README does not name the intake setting USEGAN_{field.upper()}"


def test_serve_binds_the_configured_address_unless_an_option_says_otherwise(monkeypatch):
    monkeypatch.setenv("USEGAN_HOST", "0.0.0.0")
    monkeypatch.setenv("USEGAN_PORT", "9000")
    assert web_address(argparse.Namespace(host=None, port=None), get_settings()) == ("0.0.0.0", 9000)
    assert web_address(argparse.Namespace(host="127.0.0.1", port=8600), get_settings()) == ("127.0.0.1", 8600)


def test_the_served_app_does_not_reload_its_pages_when_files_change_unless_asked():
    argv = streamlit_argv("127.0.0.1", 8600, [])
    assert argv[argv.index("--server.fileWatcherType") + 1] == "none"
    assert argv[argv.index("--server.runOnSave") + 1] == "false"
    development = streamlit_argv("127.0.0.1", 8600, ["--server.fileWatcherType", "auto"])
    assert development[-2:] == ["--server.fileWatcherType", "auto"]  # later options win
