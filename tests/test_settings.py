"""Settings: validated at load (unknown keys and unparsable values refused, naming the setting), every setting the
README names is read by the code."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from usegan.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_work_on_a_fresh_machine(tmp_path):
    settings = get_settings({"USEGAN_DATA_DIR": str(tmp_path)})
    assert settings.db_path == tmp_path / "usegan.duckdb" and settings.store_patient_names is False


def test_toml_values_are_read_and_the_environment_wins(tmp_path):
    (tmp_path / "usegan.toml").write_text('department = "Radiology"\nstore_patient_names = true\ndicom_port = 4242\n')
    settings = get_settings({"USEGAN_DATA_DIR": str(tmp_path), "USEGAN_DICOM_PORT": "5000"})
    assert (settings.department, settings.store_patient_names, settings.dicom_port) == ("Radiology", True, 5000)


def test_an_unknown_toml_key_is_refused_by_name(tmp_path):
    (tmp_path / "usegan.toml").write_text('department = "Radiology"\nvgg19_weights = "/x.pth"\n')
    with pytest.raises(ValueError, match=r"unknown setting\(s\) 'vgg19_weights'"):
        get_settings({"USEGAN_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("USEGAN_STORE_PATIENT_NAMES", "maybe", "store_patient_names"),
        ("USEGAN_DICOM_PORT", "eleven", "dicom_port"),
        ("USEGAN_MAX_IMAGE_PIXELS", "1.5e6", "max_image_pixels"),
    ],
)
def test_values_that_do_not_parse_are_refused(tmp_path, variable, value, setting):
    with pytest.raises(ValueError, match=f"setting '{setting}': cannot read '{value}'"):
        get_settings({"USEGAN_DATA_DIR": str(tmp_path), variable: value})


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("USEGAN_INFERENCE_PRECISION", "BF16", "inference_precision"),
        ("USEGAN_REPORT_LANGUAGE", "de", "report_language"),
    ],
)
def test_a_word_outside_the_choices_is_refused_with_the_variable_named(tmp_path, variable, value, setting):
    with pytest.raises(ValueError, match=f"setting '{setting}' \\({variable}\\): must be one of .*got '{value}'"):
        get_settings({"USEGAN_DATA_DIR": str(tmp_path), variable: value})
    assert (
        get_settings({"USEGAN_DATA_DIR": str(tmp_path), "USEGAN_INFERENCE_PRECISION": "bf16"}).inference_precision
        == "bf16"
    )


def test_booleans_parse_both_ways(tmp_path):
    for text, expected in [("1", True), ("Yes", True), ("off", False), ("FALSE", False)]:
        env = {"USEGAN_DATA_DIR": str(tmp_path), "USEGAN_STORE_PATIENT_NAMES": text}
        assert get_settings(env).store_patient_names is expected


def test_a_toml_value_of_the_wrong_type_is_refused(tmp_path):
    (tmp_path / "usegan.toml").write_text("department = 5\n")
    with pytest.raises(ValueError, match="setting 'department'"):
        get_settings({"USEGAN_DATA_DIR": str(tmp_path)})


def test_every_setting_the_readme_names_exists_and_is_read_by_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"USEGAN_([A-Z0-9_]+)", readme)) - {""}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    known = {f.name for f in fields(Settings)}
    sources = [*ROOT.joinpath("usegan").rglob("*.py"), *ROOT.glob("pages/*.py")]
    code = "\n".join(p.read_text(encoding="utf-8") for p in sources if p.name != "settings.py")
    for name in sorted(named):
        if name == "CONFIG":  # the TOML file's path, read by get_settings itself
            continue
        if name.lower() not in known:
            assert f"USEGAN_{name}" in makefile, (
                f"README names USEGAN_{name}: neither a setting nor a Makefile variable"
            )
            continue
        assert re.search(rf"\b{name.lower()}\b", code), f"setting {name.lower()} is never read outside settings.py"


def test_serve_reads_host_and_port_from_the_settings(tmp_path):
    """``usegan serve`` without --host/--port binds USEGAN_HOST / USEGAN_PORT (they were once read but undefined)."""
    settings = get_settings({"USEGAN_DATA_DIR": str(tmp_path), "USEGAN_HOST": "0.0.0.0", "USEGAN_PORT": "8600"})
    assert (settings.host, settings.port) == ("0.0.0.0", 8600)
    assert (get_settings({"USEGAN_DATA_DIR": str(tmp_path)}).host, Settings().port) == ("localhost", 8501)
    with pytest.raises(ValueError, match="'port'"):
        get_settings({"USEGAN_DATA_DIR": str(tmp_path), "USEGAN_PORT": "http"})
