"""usegan.services.service: the generation cache, opening a case, proposals for drawn ROIs, saving and signing a
review (with the audit table over it), and the confirmed-score picker's scale."""

# ruff: noqa: F811
from __future__ import annotations

from tests.service_fixtures import CountingModel, env  # noqa: F401  (env: a fixture)
from usegan import active_model
from usegan.scoring import Rect
from usegan.services import audit, intake, service


def test_generation_is_cached_per_image_model_and_mode(env):
    store, root = env
    from usegan.inference import VirtualElastographer

    sample = intake.list_samples(root / "samples")[0]
    first, second = (intake.create_sample_case(store, sample, "doc") for _ in range(2))
    model = CountingModel(VirtualElastographer.from_checkpoint(active_model.resolve("strain", store)))
    cache = service.GenerationCache(4)
    g1 = service.generate_for_case(store, first, model, "doc", cache)
    assert service.generate_for_case(store, first, model, "doc", cache).generation_id == g1.generation_id
    g2 = service.generate_for_case(store, second, model, "doc", cache)  # same B-mode, another case: cache hit
    assert model.calls == 1 and cache.hits == 1 and g2.case_id == second
    assert g2.model_version == "tiny-strain-test" and store.get_case(second).status == "generated"


def test_open_case_scores_rois_and_signs_a_review(env):
    store, root = env
    from usegan.inference import VirtualElastographer

    case_id = intake.create_sample_case(store, intake.list_samples(root / "samples")[0], "doc")
    model = VirtualElastographer.from_checkpoint(active_model.resolve("strain", store))
    service.generate_for_case(store, case_id, model, "doc", service.GenerationCache())
    view = service.open_case(store, case_id, "strain")
    assert view.real is not None and view.caption.startswith("VIRTUAL STRAIN") and view.expected_version == 0
    assert service.score_rois(view.elasto, "strain", None, {}, "breast").reason.startswith("draw a lesion")
    assert service.score_rois(view.elasto, "strain", None, {"lesion": Rect(10, 10, 30, 30)}, "liver").score is None
    rois = {"lesion": Rect(30, 30, 30, 30), "reference": Rect(5, 5, 20, 6)}
    proposal = service.score_rois(view.elasto, "strain", view.generation.colour_scale, rois, "breast")
    assert proposal.system == "tsukuba" and proposal.score == 5  # the fixture model paints everything hard
    review = service.save_review(store, view, "doc", rois, 4, "text", proposal, action="sign")
    assert review.status == "signed" and review.confirmed_score == 4
    assert store.latest_prescore(case_id).score == 5  # the proposal stays apart from the confirmed score
    reopened = service.open_case(store, case_id, "strain")
    assert reopened.rois == rois and reopened.review.is_signed
    amended = service.save_review(store, reopened, "doc", rois, 3, "t", action="amend", reason="second look")
    assert amended.version == 2 and amended.amend_reason == "second look"
    table = audit.audit_table(store)
    assert table.loc[0, "lesion_type"] == "malignant" and audit.per_model_summary(table).loc[0, "readings"] == 1
    assert len(audit.disagreements(table)) == 1
    assert (
        audit.export_bytes(table, "csv").startswith(b"case_id") and audit.export_bytes(table, "parquet")[:4] == b"PAR1"
    )


def test_swe_class_never_becomes_the_confirmed_tsukuba_score(tmp_path):
    """Breast SWE class 2 means 'suspicious' while Tsukuba 2 means 'probably benign': a SWE proposal pre-fills only
    the SWE reading's picker (its own scale) and never becomes the case's headline (Tsukuba) proposed score."""
    import numpy as np

    from usegan.scoring import ScoreResult
    from usegan.store import Store

    store = Store(tmp_path / "db.duckdb", tmp_path / "images")
    case_id = store.create_case(np.zeros((32, 32), np.uint8), organ="breast", created_by="t")
    view = service.open_case(store, case_id, "swe")
    swe = ScoreResult("swe_breast", 2, "2: suspicious", {"emax_kpa": 120.0})
    tsukuba = ScoreResult("tsukuba", 4, "4: whole lesion hard", {})
    assert service.picker_start(view, swe) == 2  # the SWE reading is confirmed on the breast SWE class scale
    assert service.picker_start(view, tsukuba) is None  # a Tsukuba number never pre-fills an SWE reading
    strain_view = service.open_case(store, case_id, "strain")
    assert service.picker_start(strain_view, swe) is None and service.picker_start(strain_view, tsukuba) == 4
    service.record_proposal(store, view, swe, {}, "t")
    assert store.get_case(case_id).proposed_score is None  # stored as a pre-score, not as the headline
    assert store.latest_prescore(case_id).result["system"] == "swe_breast"
    service.record_proposal(store, service.open_case(store, case_id, "strain"), tsukuba, {}, "t")
    assert store.get_case(case_id).proposed_score == 4
    store.close()
