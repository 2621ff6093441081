"""Model provenance as one typed value (issue 13): decided from the training data, copied into the registry card,
read by the page, the PDF and the teaching lab; old checkpoints fall back to ``simulated_data_only``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.optimize_fixtures import tiny_checkpoint
from tests.store_fixtures import LESION, bmode, elasto, fast_hasher_fixture, store_fixture  # noqa: F401
from usegan.provenance import (
    CAVEATS,
    Provenance,
    from_card,
    from_training,
    of_data,
    of_training_folder,
    provenance_for_model,
    training_fields,
)
from usegan.report import build_report, report_data_for_reading

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


def test_the_value_follows_the_training_data():
    assert of_data(0, 40) is Provenance.PHANTOM
    assert of_data(12, 0) is Provenance.DEPARTMENT
    assert of_data(12, 3) is Provenance.MIXED
    with pytest.raises(ValueError):
        of_data(0, 0)


def test_old_checkpoints_and_cards_are_read_from_their_flags():
    assert from_training({"simulated_data_only": True}) is Provenance.PHANTOM
    assert from_training({}) is Provenance.PHANTOM  # the bundled models of before: phantoms only
    assert from_training({"simulated_data_only": False, "replay_cases": 2}) is Provenance.MIXED
    assert from_training({"simulated_data_only": False, "replay_cases": 0}) is Provenance.DEPARTMENT
    assert from_training({"provenance": "department", "simulated_data_only": True}) is Provenance.DEPARTMENT
    legacy_finetune = {"trained_on": "department pairs from the case store + simulated phantom replay"}
    assert from_card(legacy_finetune) is Provenance.MIXED  # "phantom" in the text no longer means phantom-only
    assert from_card({"trained_on": "simulated phantoms"}) is Provenance.PHANTOM and from_card({}) is None


def test_the_trainer_records_the_provenance_of_its_data_folder(tmp_path):
    phantoms, pairs = tmp_path / "phantoms", tmp_path / "pairs"
    phantoms.mkdir()
    (phantoms / "index.csv").write_text("case\n")
    (pairs / "bmode").mkdir(parents=True)
    assert training_fields(phantoms) == {"provenance": "phantom", "simulated_data_only": True}
    assert training_fields(pairs) == {"provenance": "department", "simulated_data_only": False}
    assert of_training_folder(pairs) is Provenance.DEPARTMENT


def _reading(store, version: str, mode: str = "strain"):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    generation_id = store.add_generation(
        case_id, elasto(), model_version=version, checkpoint_sha256="a" * 64, mode=mode,
        colour_scale={"vmin": 0, "vmax": 1}, ms=1.0, created_by="dr_a",
    )  # fmt: skip
    prescore_id = store.add_prescore(
        case_id, generation_id, {"system": "tsukuba", "score": 4, "figures": {}}, {"lesion": LESION}, created_by="dr_a"
    )
    draft = store.save_draft(
        case_id, "dr_a", {"lesion": LESION}, 4, "Whole lesion hard.", 0, generation_id=generation_id,
        prescore_id=prescore_id,
    )  # fmt: skip
    return store.sign(case_id, "dr_a", draft.row_version)


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@needs_poppler
def test_bundled_model_not_in_the_registry_is_still_phantom_trained(store, tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    tiny_checkpoint(models / "bundled-strain.pt", "bundled-strain-1")  # training: simulated_data_only only
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(models))
    assert store.registry.list() == []  # a fresh install: nothing registered
    assert provenance_for_model(store, "bundled-strain-1", model_dir=models) is Provenance.PHANTOM
    data = report_data_for_reading(store, _reading(store, "bundled-strain-1"))
    assert data.provenance is Provenance.PHANTOM
    text = " ".join(_pdf_text(build_report(data), tmp_path).split())
    assert "trained on simulated phantom elastograms only (no real elastogram)" in text
    assert provenance_for_model(store, "nobody-knows-1", model_dir=models) is None


@needs_poppler
def test_fine_tuned_on_department_pairs_with_phantom_replay_is_mixed_not_phantom(store, tmp_path):
    from usegan.finetune.run import register_result

    checkpoint = tiny_checkpoint(tmp_path / "ft.pt", "ft-strain-2")
    card = {"trained_on": "department pairs from the case store + simulated phantom replay",
            "provenance": of_data(6, 2).value}  # fmt: skip
    result = {"version": "ft-strain-2", "mode": "strain", "checkpoint": str(checkpoint), "sha256": "b" * 64,
              "metrics": {}, "card": card}  # fmt: skip
    register_result(store, result, by="dr_a")
    assert store.registry.get("ft-strain-2").card["provenance"] == "mixed"
    assert provenance_for_model(store, "ft-strain-2") is Provenance.MIXED
    data = report_data_for_reading(store, _reading(store, "ft-strain-2"))
    text = " ".join(_pdf_text(build_report(data), tmp_path).split())
    assert "simulated phantom elastograms" not in text
    assert CAVEATS[Provenance.MIXED] in text
