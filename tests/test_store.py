"""Case store: cases, images, generations, pre-scores, worklist, audit, registry, migrations, `store check`."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from tests.store_fixtures import LESION, bmode, elasto, fast_hasher_fixture, reading_basis, store_fixture  # noqa: F401
from usegan.cli import main
from usegan.settings import get_settings
from usegan.store import DuplicateCaseError, NotFoundError, Store, open_store
from usegan.store.images import ImageStore, sha256_bytes
from usegan.store.migrations import current_version, migrate
from usegan.store.schema import SCHEMA_VERSION


def test_case_round_trip_with_images_and_original(store):
    image = bmode(1)
    case_id = store.create_case(
        image,
        organ="breast",
        side="left",
        source="dicom",
        created_by="dr_a",
        original_bytes=b"DICM-raw",
        original_name="x.dcm",
        notes="右乳 nodule",
        dicom_uids={"SOPInstanceUID": "1.2.3.4"},
        crop=(1, 2, 30, 20),
        acquired_at=dt.datetime(2024, 5, 6, 7, 8, 9),
    )
    case = store.get_case(case_id)
    np.testing.assert_array_equal(case.bmode(), image)
    assert case.original_bytes() == b"DICM-raw"
    assert (case.organ, case.side, case.source, case.status) == ("breast", "left", "dicom", "new")
    assert case.notes == "右乳 nodule" and case.crop == [1, 2, 30, 20]
    assert case.exam_at == dt.datetime(2024, 5, 6, 7, 8, 9)
    assert store.find_case_by_sop_uid("1.2.3.4") == case_id
    assert store.find_case_by_sop_uid("9.9") is None
    with pytest.raises(DuplicateCaseError, match=case_id):
        store.create_case(image, organ="breast", created_by="dr_a", dicom_uids={"SOPInstanceUID": "1.2.3.4"})


def test_bad_inputs_are_refused_with_the_value(store):
    with pytest.raises(ValueError, match="float64"):
        store.create_case(np.zeros((8, 8)), organ="breast", created_by="dr_a")
    with pytest.raises(ValueError, match="'usb'"):
        store.create_case(bmode(), organ="breast", source="usb", created_by="dr_a")
    with pytest.raises(NotFoundError, match="C-nope"):
        store.get_case("C-nope")
    with pytest.raises(NotFoundError):
        store.add_generation(
            "C-nope",
            elasto(),
            model_version="v",
            checkpoint_sha256="0",
            mode="strain",
            colour_scale={},
            ms=1,
            created_by="dr_a",
        )


def test_patient_names_are_dropped_unless_enabled(fast_hasher, monkeypatch):
    with open_store() as s:
        case_id = s.create_case(bmode(), organ="thyroid", patient_id="P-1", patient_name="Li Lei", created_by="x")
        assert s.get_case(case_id).patient_id == "P-1" and s.patient_name("P-1") is None
    monkeypatch.setenv("USEGAN_STORE_PATIENT_NAMES", "1")
    with open_store() as s:
        s.create_case(bmode(), organ="thyroid", patient_id="P-2", patient_name="Li Lei", created_by="x")
        assert s.patient_name("P-2") == "Li Lei"


def test_generation_prescore_and_status(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    assert store.latest_generation(case_id) is None
    e1, e2 = elasto(1), elasto(2)
    g1 = store.add_generation(
        case_id,
        e1,
        model_version="v1",
        checkpoint_sha256="a" * 64,
        mode="strain",
        colour_scale={"vmin": 0, "vmax": 1},
        ms=12.5,
        created_by="dr_a",
    )
    store.add_generation(
        case_id,
        e2,
        model_version="v1",
        checkpoint_sha256="a" * 64,
        mode="swe",
        colour_scale={"vmin": 0, "vmax": 180, "unit": "kPa"},
        ms=11.0,
        created_by="dr_a",
    )
    assert store.get_case(case_id).status == "generated"
    strain = store.latest_generation(case_id, mode="strain")
    assert strain.generation_id == g1 and strain.colour_scale == {"vmin": 0, "vmax": 1}
    np.testing.assert_array_equal(strain.elastogram(), e1)
    np.testing.assert_array_equal(store.latest_generation(case_id, mode="swe").elastogram(), e2)
    result = {
        "system": "tsukuba",
        "score": 4,
        "figures": {"hard_fraction": np.float32(0.8)},
        "algorithm_version": "usegan-scoring 1.0",
    }
    store.add_prescore(case_id, g1, result, {"lesion": {"x": 1, "y": 2, "w": 5, "h": 6}}, created_by="dr_a")
    pre = store.latest_prescore(case_id)
    assert pre.score == 4 and pre.algorithm_version == "usegan-scoring 1.0"
    assert pre.result["figures"]["hard_fraction"] == pytest.approx(0.8)
    case = store.get_case(case_id)
    assert case.proposed_score == 4 and case.confirmed_score is None  # the proposal is not the review
    assert store.current_review(case_id) is None


def test_every_mutation_is_audited(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    store.add_generation(
        case_id,
        elasto(),
        model_version="v1",
        checkpoint_sha256="a" * 64,
        mode="strain",
        colour_scale={},
        ms=None,
        created_by="dr_b",
    )
    review = store.save_draft(case_id, "dr_a", {}, 3, "first", 0)
    store.save_draft(case_id, "dr_a", {}, 4, "second", review.row_version)
    log = store.audit_log(entity_id=review.review_id)
    assert list(log["action"]) == ["review.save_draft", "review.save_draft"]
    import json

    newest = log.iloc[0]
    assert json.loads(newest["before"])["conclusion"] == "first"
    assert json.loads(newest["after"])["conclusion"] == "second"
    actions = list(store.audit_log(entity="case", entity_id=case_id)["action"])
    assert actions == ["generation.add", "case.create"]
    assert store.audit_log(actor="dr_b")["action"].tolist() == ["generation.add"]


def test_failed_mutation_leaves_no_audit_and_no_row(store):
    before = len(store.audit_log(limit=1000))
    with pytest.raises(NotFoundError):
        store.add_prescore("C-missing", None, {"score": 1}, {}, created_by="dr_a")
    assert len(store.audit_log(limit=1000)) == before
    assert store.query("SELECT count(*) AS n FROM prescores")["n"][0] == 0


def test_image_store_is_content_addressed_and_never_overwrites(tmp_path):
    images = ImageStore(tmp_path / "images")
    sha = images.put(b"hello")
    assert sha == sha256_bytes(b"hello") and images.path(sha).read_bytes() == b"hello"
    mtime = images.path(sha).stat().st_mtime_ns
    assert images.put(b"hello") == sha and images.path(sha).stat().st_mtime_ns == mtime
    assert not [p for p in images.path(sha).parent.iterdir() if p.name.startswith(".tmp")]
    with pytest.raises(ValueError, match="sha256"):
        images.path("../etc/passwd")


def test_store_check_finds_missing_and_corrupt_files(store, capsys):
    c1 = store.create_case(bmode(1), organ="breast", created_by="dr_a")
    c2 = store.create_case(bmode(2), organ="breast", created_by="dr_a")
    assert store.check() == []
    assert main(["store", "check"]) == 0
    missing, corrupt = store.get_case(c1).bmode_sha, store.get_case(c2).bmode_sha
    store.images.path(missing).unlink()
    store.images.path(corrupt).write_bytes(b"tampered")
    problems = {p.sha256: p.problem for p in store.check()}
    assert problems[missing] == "missing" and problems[corrupt].startswith("corrupt")
    store.close()  # the CLI opens the database itself
    capsys.readouterr()
    assert main(["store", "check"]) == 1
    out = capsys.readouterr().out
    assert missing in out and corrupt in out and "2 problem" in out


def test_worklist_filters_and_counts(store):
    days = [dt.datetime(2024, 1, d, 9) for d in (1, 2, 3, 4)]
    ids = [
        store.create_case(bmode(i), organ=o, acquired_at=d, created_by="dr_a", notes=n)
        for i, (o, d, n) in enumerate(
            zip(["breast", "thyroid", "breast", "liver"], days, ["", "", "findme", ""], strict=True)
        )
    ]
    store.save_draft(ids[0], "dr_b", {}, 2, "", 0)
    r = store.save_draft(ids[2], "dr_a", {"lesion": LESION}, 4, "x", 0, **reading_basis(store, ids[2]))
    store.sign(ids[2], "dr_a", r.row_version)
    assert list(store.worklist()["case_id"]) == ids[::-1]  # newest exam first
    assert list(store.worklist(organ="breast")["case_id"]) == [ids[2], ids[0]]
    assert list(store.worklist(status="signed")["case_id"]) == [ids[2]]
    assert list(store.worklist(status=["draft", "signed"], reviewer="dr_b")["case_id"]) == [ids[0]]
    assert list(store.worklist(date_from=dt.date(2024, 1, 2), date_to=dt.date(2024, 1, 3))["case_id"]) == [
        ids[2],
        ids[1],
    ]
    assert list(store.worklist(search="FINDME")["case_id"]) == [ids[2]]
    assert list(store.worklist(limit=2, offset=1)["case_id"]) == [ids[2], ids[1]]
    assert store.count_cases(organ="breast") == 2
    row = store.worklist(status="signed").iloc[0]
    assert row["confirmed_score"] == 4 and row["reviewer"] == "dr_a"
    assert store.counts() == {"new": 2, "generated": 0, "draft": 1, "signed": 1, "amended": 0, "total": 4}
    with pytest.raises(ValueError, match="'finished'"):
        store.worklist(status="finished")


def test_model_registry_one_active_per_mode(store, tmp_path):
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"weights")
    v1 = store.registry.register(
        "strain-1", "strain", ckpt, created_by="admin", metrics={"l1": 0.1}, card={"trained_on": "simulated phantoms"}
    )
    assert v1.status == "candidate" and v1.sha256 == sha256_bytes(b"weights")
    assert store.registry.active("strain") is None
    store.registry.register("strain-2", "strain", ckpt, created_by="admin", sha256="b" * 64)
    store.registry.register("swe-1", "swe", ckpt, created_by="admin")
    store.registry.set_active("strain-1", by="admin")
    store.registry.set_active("swe-1", by="admin")
    promoted = store.registry.set_active("strain-2", by="admin")
    assert promoted.status == "active" and promoted.promoted_at is not None
    assert store.registry.active("strain").version == "strain-2"
    assert store.registry.get("strain-1").status == "retired"
    assert store.registry.active("swe").version == "swe-1"
    assert store.registry.get("strain-1").card == {"trained_on": "simulated phantoms"}
    with pytest.raises(ValueError, match="already registered"):
        store.registry.register("swe-1", "swe", ckpt, created_by="admin")


def test_migration_upgrades_a_version_1_file(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, target=1) == [1]
    now = dt.datetime(2023, 3, 4, 5, 6)
    con.execute(
        "INSERT INTO cases (case_id, organ, source, created_at, created_by, bmode_sha, height, width) "
        "VALUES ('C-old', 'breast', 'upload', ?, 'x', 'ab', 8, 8), "
        "('C-gen', 'thyroid', 'upload', ?, 'x', 'cd', 8, 8)",
        [now, now],
    )
    con.execute("INSERT INTO generations VALUES ('G-1', 'C-gen', 'strain', 'v', 's', '{}', 'ef', 1, ?, 'x')", [now])
    con.execute(
        "INSERT INTO reviews VALUES ('V-1', 'C-old', 1, 'signed', 'dr', '{}', 4, 'c', 2, ?, ?, 'dr', ?, "
        "'dr', NULL, NULL)",
        [now, now, now],
    )
    con.close()
    with Store(path, tmp_path / "images") as s:
        assert s.schema_version == SCHEMA_VERSION
        old, gen = s.get_case("C-old"), s.get_case("C-gen")
        assert (old.status, old.reviewer, old.confirmed_score, old.exam_at) == ("signed", "dr", 4, now)
        assert gen.status == "generated"
        assert s.counts()["total"] == 2
        versions = s.query("SELECT version FROM schema_version ORDER BY version")["version"].tolist()
        assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_migration_moves_the_lesion_type_out_of_the_notes(tmp_path):
    path = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, target=3) == [1, 2, 3]
    now = dt.datetime(2024, 1, 2, 3, 4)
    con.execute(
        "INSERT INTO cases (case_id, organ, source, created_at, created_by, bmode_sha, height, width, notes) "
        "VALUES ('C-sample', 'breast', 'sample', ?, 'x', 'ab', 8, 8, 'Bundled phantom sample s1; lesion type: "
        "malignant_halo'), ('C-clinic', 'breast', 'upload', ?, 'x', 'cd', 8, 8, 'left breast, 2 o''clock')",
        [now, now],
    )
    con.close()
    with Store(path, tmp_path / "images") as s:
        assert s.get_case("C-sample").lesion_type == "malignant_halo"
        assert s.get_case("C-clinic").lesion_type is None


def test_create_case_keeps_a_known_lesion_type_only(store):
    bmode_image = np.zeros((8, 8), np.uint8)
    case_id = store.create_case(bmode_image, organ="breast", created_by="dr_a", source="phantom", lesion_type="cyst")
    assert store.get_case(case_id).lesion_type == "cyst"
    with pytest.raises(ValueError, match="lesion_type must be one of"):
        store.create_case(bmode_image, organ="breast", created_by="dr_a", lesion_type="tumour")


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path, tmp_path / "images"):
        pass
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (999, now()::TIMESTAMP, 'future')")
    assert current_version(con) == 999
    con.close()
    with pytest.raises(Exception, match="newer than this usegan"):
        Store(path, tmp_path / "images")


def test_open_store_uses_settings_locations(fast_hasher):
    settings = get_settings()
    with open_store() as s:
        s.create_case(bmode(), organ="breast", created_by="x")
    assert settings.db_path.is_file() and any(settings.images_dir.rglob("*"))


def test_scale_benchmark_populates_a_consistent_store(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "store_scale.py"
    spec = importlib.util.spec_from_file_location("store_scale", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with Store(tmp_path / "b.duckdb", tmp_path / "images") as s:
        bench.populate(s, 1000)
        assert s.counts()["total"] == 1000
        latest = s.worklist()
        assert len(latest) == 50 and latest["exam_at"].is_monotonic_decreasing
        for filters in bench.QUERIES.values():
            s.worklist(**filters)  # every benchmark query is valid
        assert s.check() == []
