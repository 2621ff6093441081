"""Export (CSV / Parquet), backup, verify and restore: round trips through the CLI and the library."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.store_fixtures import bmode, elasto, fast_hasher_fixture, store_fixture  # noqa: F401
from usegan.cli import main
from usegan.settings import get_settings
from usegan.store import StoreError, open_store
from usegan.store.backup import backup, restore, verify_backup


def _populate(store) -> str:
    case_id = store.create_case(
        bmode(3),
        organ="breast",
        patient_id="P-7",
        patient_name="Secret Name",
        created_by="dr_a",
        original_bytes=b"raw-upload",
    )
    g = store.add_generation(
        case_id,
        elasto(3),
        model_version="v1",
        checkpoint_sha256="c" * 64,
        mode="strain",
        colour_scale={"vmin": 0, "vmax": 1},
        ms=5.0,
        created_by="dr_a",
    )
    p = store.add_prescore(case_id, g, {"score": 3, "algorithm_version": "a1"}, {"lesion": {}}, created_by="dr_a")
    rois = {"lesion": {"x": 1, "y": 1, "w": 4, "h": 4}}
    review = store.save_draft(case_id, "dr_a", rois, 4, "结论: 质硬", 0, generation_id=g, prescore_id=p)
    review = store.sign(case_id, "dr_a", review.row_version)
    store.add_report(case_id, review.review_id, b"%PDF-1.4 fake report", created_by="dr_a")
    store.registry.register("strain-1", "strain", "/models/s1.pt", sha256="d" * 64, created_by="admin")
    return case_id


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_cases_scores_reviews_models(store, tmp_path, fmt, capsys):
    case_id = _populate(store)
    store.close()
    out = tmp_path / "export"
    assert main(["export", "--format", fmt, "--out", str(out)]) == 0
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    cases = read(out / f"cases.{fmt}")
    assert list(cases["case_id"]) == [case_id] and cases["status"][0] == "signed"
    assert read(out / f"prescores.{fmt}")["score"].tolist() == [3]
    reviews = read(out / f"reviews.{fmt}")
    assert reviews["confirmed_score"].tolist() == [4] and reviews["conclusion"][0] == "结论: 质硬"
    assert read(out / f"models.{fmt}")["version"].tolist() == ["strain-1"]
    assert not (out / f"users.{fmt}").exists()
    assert "Secret Name" not in "".join(p.read_bytes().decode("latin-1") for p in out.iterdir())


def test_backup_and_restore_round_trip(store, tmp_path, capsys):
    case_id = _populate(store)
    before = store.get_case(case_id)
    store.close()
    dest = tmp_path / "backup"
    assert main(["backup", str(dest)]) == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["cases"] == 1 and manifest["images"] == 4  # B-mode, original, elastogram, PDF
    verify_backup(dest)
    # Lose the live data, then restore.
    settings = get_settings()
    with open_store() as s:
        s.create_case(bmode(9), organ="liver", created_by="dr_a")  # a change made after the backup
    assert main(["restore", str(dest)]) == 2  # refuses to replace without --force
    assert "--force" in capsys.readouterr().err
    for path in settings.images_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    assert main(["restore", str(dest), "--force"]) == 0
    assert "kept in" in capsys.readouterr().out
    with open_store() as s:
        assert s.counts()["total"] == 1  # the post-backup case is gone from the live store ...
        after = s.get_case(case_id)
        assert after == before
        np.testing.assert_array_equal(after.bmode(), bmode(3))
        assert after.original_bytes() == b"raw-upload"
        assert s.current_review(case_id).status == "signed"
        assert s.check() == []
        assert s.authenticate("dr_a", "correct-horse-1").username == "dr_a"
    aside = [p for p in settings.data_dir.iterdir() if p.name.startswith("pre-restore-")]
    assert len(aside) == 1 and (aside[0] / "usegan.duckdb").is_file()  # ... but kept aside, not deleted


def test_backup_refuses_non_empty_destination_and_detects_corruption(store, tmp_path):
    _populate(store)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        backup(store, occupied)
    dest = tmp_path / "b"
    backup(store, dest, by="dr_a")
    assert store.audit_log(limit=1)["action"][0] == "store.backup"
    victim = next(p for p in (dest / "images").rglob("*") if p.is_file())
    victim.write_bytes(b"bit rot")
    with pytest.raises(StoreError, match="missing or corrupt"):
        verify_backup(dest)
    with pytest.raises(StoreError, match="missing or corrupt"):
        restore(dest, tmp_path / "new" / "usegan.duckdb", tmp_path / "new" / "images")
    assert not (tmp_path / "new" / "usegan.duckdb").exists()


def test_backup_of_a_corrupt_store_fails_loudly(store, tmp_path):
    case_id = _populate(store)
    store.images.path(store.get_case(case_id).bmode_sha).write_bytes(b"tampered")
    with pytest.raises(StoreError, match="corrupt"):
        backup(store, tmp_path / "b")
