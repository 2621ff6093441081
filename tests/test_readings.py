"""Readings (issue 13): one per (case, mode), each with its own generation, scale, versions and signature; signing
requirements; the report archived once; migration of the version-7 schema keeps every review."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.store_fixtures import LESION, bmode, elasto, fast_hasher_fixture, reading_basis, store_fixture  # noqa: F401
from usegan.scoring.systems import confirmed_scale
from usegan.store import SignBlockedError, StaleReviewError, Store
from usegan.store.migrations import migrate
from usegan.store.schema import SCHEMA_VERSION

ROIS = {"lesion": LESION}


def _signed(store, case_id, mode, score, conclusion="read", render_pdf=None):
    basis = reading_basis(store, case_id, mode)
    draft = store.save_draft(case_id, "dr_a", ROIS, score, conclusion, 0, **basis)
    return store.sign(case_id, "dr_a", draft.row_version, mode=mode, render_pdf=render_pdf)


def test_a_case_carries_a_strain_and_an_swe_reading_each_on_its_own_scale_and_generation(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    strain = _signed(store, case_id, "strain", 4)
    swe = _signed(store, case_id, "swe", 2)
    assert (strain.mode, strain.scale, strain.model_version) == ("strain", "tsukuba", "test-strain-1")
    assert (swe.mode, swe.scale, swe.model_version) == ("swe", "swe_breast", "test-swe-1")
    assert strain.version == swe.version == 1 and strain.review_id != swe.review_id
    readings = store.readings(case_id)
    assert {m: r.confirmed_score for m, r in readings.items()} == {"strain": 4, "swe": 2}
    assert store.current_review(case_id, "strain").review_id == strain.review_id  # signing SWE left strain alone


def test_a_score_off_the_readings_scale_is_refused_with_the_scale_named(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    basis = reading_basis(store, case_id, "swe")
    with pytest.raises(ValueError, match="breast SWE class 1-2"):
        store.save_draft(case_id, "dr_a", ROIS, 4, "", 0, **basis)  # Tsukuba 4 is not an SWE class
    assert confirmed_scale("thyroid", "strain").system == "rago"


def test_the_generation_decides_the_mode_and_a_mismatch_is_refused(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    basis = reading_basis(store, case_id, "swe")
    draft = store.save_draft(case_id, "dr_a", ROIS, 1, "", 0, **basis)
    assert draft.mode == "swe" and store.current_review(case_id, "strain") is None
    with pytest.raises(ValueError, match="is a swe elastogram, not strain"):
        store.save_draft(case_id, "dr_a", ROIS, 1, "", 0, mode="strain", generation_id=basis["generation_id"])


@pytest.mark.parametrize(
    ("rois", "with_proposal", "score", "conclusion", "missing"),
    [
        ({}, False, None, "  ", ["lesion ROI", "proposal", "confirmed score on Tsukuba 1-5", "conclusion"]),
        (ROIS, False, 3, "ok", ["proposal"]),
        (ROIS, True, None, "ok", ["confirmed score"]),
        ({"reference": LESION}, True, 3, "", ["lesion ROI", "conclusion"]),
    ],
)
def test_signing_is_refused_with_exactly_what_is_missing(store, rois, with_proposal, score, conclusion, missing):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    basis = reading_basis(store, case_id, "strain")
    if not with_proposal:
        basis["prescore_id"] = None
    draft = store.save_draft(case_id, "dr_a", rois, score, conclusion, 0, **basis)
    with pytest.raises(SignBlockedError) as info:
        store.sign(case_id, "dr_a", draft.row_version)
    assert len(info.value.missing) == len(missing)
    for item, words in zip(info.value.missing, missing, strict=True):
        assert words in item
    assert store.current_review(case_id, "strain").status == "draft"


def test_a_proposal_from_another_generation_does_not_count(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    old = reading_basis(store, case_id, "strain")
    new = reading_basis(store, case_id, "strain", seed=3)  # a newer model's generation
    draft = store.save_draft(
        case_id, "dr_a", ROIS, 3, "x", 0, generation_id=new["generation_id"], prescore_id=old["prescore_id"]
    )
    with pytest.raises(SignBlockedError, match="proposal computed on the elastogram shown"):
        store.sign(case_id, "dr_a", draft.row_version)


def test_the_report_is_rendered_once_at_signing_and_each_amendment_has_its_own(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    rendered = []

    def render(review):
        rendered.append(review.review_id)
        return f"%PDF-1.4 {review.version} {review.confirmed_score} {review.signed_by}".encode()

    signed = _signed(store, case_id, "strain", 4, render_pdf=render)
    assert store.signed_report(signed.review_id) == b"%PDF-1.4 1 4 dr_a" and rendered == [signed.review_id]
    assert store.reports(case_id)[0]["mode"] == "strain"
    amended = store.amend(case_id, "dr_b", ROIS, 5, "halo", "second look", signed.row_version, render_pdf=render)
    assert store.signed_report(amended.review_id) == b"%PDF-1.4 2 5 dr_b"
    assert store.signed_report(signed.review_id) == b"%PDF-1.4 1 4 dr_a"  # the original report is untouched
    assert amended.generation_id == signed.generation_id and amended.amend_reason == "second look"


def test_a_failing_renderer_leaves_the_reading_unsigned(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    basis = reading_basis(store, case_id, "strain")
    draft = store.save_draft(case_id, "dr_a", ROIS, 4, "x", 0, **basis)

    def broken(review):
        raise RuntimeError("no font")

    with pytest.raises(RuntimeError):
        store.sign(case_id, "dr_a", draft.row_version, render_pdf=broken)
    assert store.current_review(case_id, "strain").status == "draft" and store.reports(case_id) == []


def test_stale_versions_are_refused_per_reading(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    strain = store.save_draft(case_id, "dr_a", ROIS, 3, "", 0, **reading_basis(store, case_id, "strain"))
    store.save_draft(case_id, "dr_b", ROIS, 1, "", 0, **reading_basis(store, case_id, "swe"))  # other reading
    store.save_draft(case_id, "dr_b", ROIS, 5, "B", strain.row_version, mode="strain")
    with pytest.raises(StaleReviewError, match=r"strain reading of case .* changed by dr_b at .* — reload"):
        store.save_draft(case_id, "dr_a", ROIS, 3, "A", strain.row_version, mode="strain")


# --- migration from schema version 7 ----------------------------------------------------------------------------
T0 = dt.datetime(2026, 11, 1, 9, 0)


def _v7_database(tmp_path):
    """A version-7 file as the previous code left it: case A read in strain and then viewed in SWE (the SWE
    generation is newer than the signature), case B signed in SWE then amended, case C a draft without any
    generation, case D a breast case whose only review was confirmed (on Tsukuba) in SWE mode."""
    con = duckdb.connect(str(tmp_path / "usegan.duckdb"))
    migrate(con, target=7)  # the schema before readings (main at issue 13)
    t = lambda minutes: T0 + dt.timedelta(minutes=minutes)  # noqa: E731
    for case_id, organ in (("A", "breast"), ("B", "liver"), ("C", "thyroid"), ("D", "breast")):
        con.execute(
            "INSERT INTO cases (case_id, organ, source, created_at, created_by, bmode_sha, height, width, status, "
            "exam_at, updated_at) VALUES (?, ?, 'upload', ?, 'dr_a', 'b', 8, 8, 'new', ?, ?)",
            [case_id, organ, t(0), t(0), t(0)],
        )
    gens = [("GA1", "A", "strain", "s-v1", t(1)), ("GA2", "A", "swe", "w-v1", t(30)), ("GB1", "B", "swe", "w-v1", t(1)),
            ("GD1", "D", "strain", "s-v1", t(1)), ("GD2", "D", "swe", "w-v1", t(2))]  # fmt: skip
    for gid, case_id, mode, version, at in gens:
        con.execute(
            "INSERT INTO generations VALUES (?, ?, ?, ?, ?, '{}', 'e', 1.0, ?, 'dr_a')",
            [gid, case_id, mode, version, version[0] * 64, at],
        )
    pres = [("SA1", "A", "GA1", 4, t(5)), ("SA2", "A", "GA2", 2, t(31)), ("SB1", "B", "GB1", 3, t(5)),
            ("SD2", "D", "GD2", 2, t(5))]  # fmt: skip
    for sid, case_id, gid, score, at in pres:
        con.execute(
            "INSERT INTO prescores VALUES (?, ?, ?, 'usegan-scoring 1.0', ?, '{}', '{}', ?, 'dr_a')",
            [sid, case_id, gid, score, at],
        )
    reviews = [  # review_id, case, version, status, score, created, updated, signed, amends, reason
        ("VA1", "A", 1, "signed", 4, t(6), t(7), t(7), None, None),
        ("VB1", "B", 1, "signed", 3, t(6), t(7), t(7), None, None),
        ("VB2", "B", 2, "amended", 4, t(20), t(20), t(20), "VB1", "second look"),
        ("VC1", "C", 1, "draft", None, t(6), t(6), None, None, None),
        ("VD1", "D", 1, "signed", 4, t(6), t(7), t(7), None, None),
    ]
    for rid, case_id, version, status, score, created, updated, signed, amends, reason in reviews:
        con.execute(
            "INSERT INTO reviews VALUES (?, ?, ?, ?, 'dr_a', '{\"lesion\": {\"x\": 1}}', ?, 'conclusion', ?, ?, ?, "
            "'dr_a', ?, ?, ?, ?)",
            [rid, case_id, version, status, score, version * 2, created, updated, signed,
             "dr_a" if signed else None, amends, reason],
        )  # fmt: skip
    con.execute("INSERT INTO reports VALUES ('R1', 'A', 'VA1', 'pdfsha', ?, 'dr_a')", [t(7)])
    before = con.execute("SELECT * FROM reviews ORDER BY review_id").fetchall()
    con.close()
    return before


def test_migration_from_version_7_keeps_every_review_and_attributes_each_to_its_generation(tmp_path):
    before = _v7_database(tmp_path)
    with Store(tmp_path / "usegan.duckdb", tmp_path / "images") as store:
        assert store.schema_version == SCHEMA_VERSION >= 8  # later migrations (sessions: 9) run on top
        after = (
            store._cursor()
            .execute(
                "SELECT review_id, case_id, version, status, reviewer, rois, confirmed_score, conclusion, "
                "row_version, created_at, updated_at, updated_by, signed_at, signed_by, amends_review_id, "
                "amend_reason, mode, scale, generation_id, model_version, prescore_id FROM reviews ORDER BY review_id"
            )
            .fetchall()
        )
        kept = [tuple(row[:16]) for row in after]
        assert kept == [tuple(r) for r in before]  # every review, every original column, unchanged
        got = {row[0]: tuple(row[16:]) for row in after}
        # A: read on the strain generation although a newer SWE one exists (the bug of issue 13, item 1).
        assert got["VA1"] == ("strain", "tsukuba", "GA1", "s-v1", "SA1")
        assert got["VB1"] == got["VB2"] == ("swe", "swe_liver", "GB1", "w-v1", "SB1")
        assert got["VC1"] == ("strain", "rago", None, None, None)
        assert got["VD1"] == ("swe", "tsukuba", "GD2", "w-v1", "SD2")  # confirmed on the picker of that time
        assert store.reports("A")[0]["mode"] == "strain"
        assert store.current_review("A", "strain").review_id == "VA1" and store.current_review("A", "swe") is None
        assert [r.review_id for r in store.review_history("B", "swe")] == ["VB1", "VB2"]


def test_audit_credits_each_reading_to_the_generation_it_was_read_on_and_never_mixes_scales(store):
    from usegan.services import audit

    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    _signed(store, case_id, "strain", 2)  # proposal: Tsukuba 2 (reading_basis)
    reading_basis(store, case_id, "swe", seed=5)  # the case is viewed in SWE afterwards: a newer generation
    table = audit.audit_table(store)
    strain = table[table["mode"] == "strain"].iloc[0]
    assert (strain["model_version"], strain["scale"], strain["confirmed_score"]) == ("test-strain-1", "tsukuba", 2)
    _signed(store, case_id, "swe", 1)  # proposal: breast SWE class 2
    table = audit.audit_table(store).set_index("mode")
    assert table.loc["swe", "model_version"] == "test-swe-1" and table.loc["strain", "model_version"] == "test-strain-1"
    per_scale = {a["scale"]: a for a in audit.per_scale_agreement(table.reset_index())}
    assert set(per_scale) == {"tsukuba", "swe_breast"} and per_scale["swe_breast"]["classes"] == (1, 2)
    assert per_scale["swe_breast"]["matrix"].tolist() == [[0, 1], [0, 0]]  # confirmed 1, proposed 2
    summary = audit.per_model_summary(table.reset_index()).set_index("scale")
    assert summary.loc["tsukuba", "model_version"] == "test-strain-1" and summary.loc["swe_breast", "readings"] == 1


def test_the_research_read_model_takes_each_readings_own_generation_proposal_and_scale(store):
    from usegan.research.export import readings_table

    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    strain = _signed(store, case_id, "strain", 2)
    newer = reading_basis(store, case_id, "strain", seed=9)  # a newer strain model's elastogram, after signing
    swe = _signed(store, case_id, "swe", 2)
    raw = store.signed_readings().set_index("mode")
    assert raw.loc["strain", "generation_id"] == strain.generation_id != newer["generation_id"]
    assert raw.loc["strain", "prescore_id"] == strain.prescore_id and raw.loc["swe", "prescore_id"] == swe.prescore_id
    table = readings_table(store.signed_readings(), {"dr_a": "R1"}).set_index("mode")
    assert (table.loc["strain", "scale"], table.loc["swe", "scale"]) == ("tsukuba", "swe_breast")
    assert table.loc["swe", "proposed_score"] == 2 and table.loc["swe", "model_version"] == "test-swe-1"
