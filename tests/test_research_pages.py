"""The research audit page and the blinded-reading page through AppTest: a researcher sees a case's images and
ROIs without identifiers, kappa shows an interval, a blinded reading is stored and compared, and only roles that
can review get "Open in review"."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import app_session, make_environment
from tests.research_fixtures import NOTES, ORIGINAL_NAME, PATIENT_ID, research_archive

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    env = make_environment(tmp_path_factory.mktemp("research-env"), n_samples=1)
    from usegan.store import Store

    data = Path(env["USEGAN_DATA_DIR"])
    with Store(data / "usegan.duckdb", data / "images") as store:
        env["cases"] = ",".join(research_archive(store, reader="doc", second_reader="admin"))
    return env


@pytest.fixture
def cases(environment) -> list[str]:
    return environment["cases"].split(",")


@pytest.fixture
def store_of(environment):
    from usegan.store import Store

    data = Path(environment["USEGAN_DATA_DIR"])
    return lambda: Store(data / "usegan.duckdb", data / "images")


@pytest.fixture
def app(environment, monkeypatch):
    for key, value in environment.items():
        if key.startswith("USEGAN_"):
            monkeypatch.setenv(key, value)

    def start(user: str, role: str, page: str = "pages/audit.py") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["auth_user"] = app_session(user)  # a real session; `role` is the fixture user's
        return at.run().switch_page(page).run()

    return start


def page_text(at: AppTest) -> str:
    """Everything the page shows as text: every element's protobuf plus every dataframe's values."""
    parts = [str(node.proto) for node in walk(at._tree) if getattr(node, "proto", None) is not None]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(parts)


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def image_captions(at: AppTest) -> list[str]:
    return [caption for element in at.get("image") for caption in element.captions]


def test_researcher_sees_a_cases_images_and_rois_without_identifiers(app, cases):
    at = app("res", "researcher")
    assert [t.value for t in at.title] == ["Research audit"] and not at.exception
    at.selectbox(key="audit_case").set_value(cases[0]).run()
    captions = image_captions(at)
    assert captions[:3] == ["B-mode", "VIRTUAL STRAIN - model research-v1", "Real STRAIN: sample"]
    text = page_text(at)
    for secret in (PATIENT_ID, ORIGINAL_NAME, "Smith", NOTES, "report text"):
        assert secret not in text
    assert cases[0] in text and "lesion ROI" in text
    assert "audit_open" not in [b.key for b in at.button]  # a researcher cannot review: no dead button
    at.toggle(key="audit_only_disagree").set_value(True).run()
    gallery_table = next(d.value for d in at.dataframe if "proposal_system" in d.value.columns)
    assert sorted(gallery_table["case_id"]) == sorted([cases[1], cases[3]])  # 5 vs 4 and 1 vs 2


def test_gallery_outlines_the_signed_rois_on_every_image(store_of, cases):
    from usegan.research import gallery
    from usegan.research.export import research_tables
    from usegan.ui.roi_canvas import LESION_COLOUR

    yellow = tuple(int(LESION_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    with store_of() as store:
        readings, _ = research_tables(store)
        panels = gallery.case_panels(store, cases[0], readings)
    assert [p.virtual for p in panels] == [False, True, False]
    for panel in panels:
        assert tuple(panel.rgb[10, 15]) == yellow and tuple(panel.rgb[15, 15]) != yellow  # the rect's top edge


def test_kappa_shows_an_interval_and_one_reading_is_undefined(app):
    at = app("res", "researcher")
    summary = next(d.value for d in at.dataframe if "kappa_text" in d.value.columns).set_index("group")
    assert summary.loc["research-v1", "n"] == 4
    assert "95% CI" in summary.loc["research-v1", "kappa_text"] and " to " in summary.loc["research-v1", "kappa_text"]
    assert not any("0.000" in str(v) for v in summary["kappa_text"])


def test_the_audit_calibrates_the_stored_uncertainty_against_disagreement_and_error(app):
    at = app("res", "researcher")
    text = page_text(at)
    assert "Model uncertainty vs clinician disagreement" in text  # the archive's stored maps
    assert "Predicted uncertainty vs actual error" in text and "Spearman" in text  # the case with a real one
    assert "no reading was made with a model that estimates uncertainty" not in text


def test_admin_can_open_a_gallery_case_in_review(app, cases):
    at = app("admin", "admin")
    at.selectbox(key="audit_case").set_value(cases[2]).run()
    at.button(key="audit_open").click().run()
    assert at.session_state["review_case_id"] == cases[2]


def test_blinded_reading_is_stored_then_compared_in_the_audit(app, cases, store_of):
    assert cases[2] != cases[3]
    at = app("doc", "clinician", "pages/blinded.py")
    assert [t.value for t in at.title] == ["Blinded reading"] and not at.exception
    queue = at.selectbox(key="blinded_case").options
    # doc reviewed cases 0 and 1 and already read case 3 blinded: only case 2 of the archive is left (+ none else)
    assert any(cases[2] in option for option in queue) and not any(cases[0] in o or cases[3] in o for o in queue)
    at.selectbox(key="blinded_case").set_value(cases[2]).run()
    at.button(key="blinded_start").click().run()
    assert image_captions(at) == ["B-mode (yellow: lesion ROI, where drawn)"]  # nothing generated is shown yet
    assert not at.metric  # ... and no proposal
    at.radio(key="blinded_before").set_value(3).run()
    at.button(key="blinded_commit").click().run()
    assert not at.exception
    assert "VIRTUAL STRAIN elastogram - model tiny-strain-test" in image_captions(at)
    assert at.metric[0].value == "5" and at.metric[1].value == "3"  # the fixture model paints everything hard
    at.radio(key="blinded_after").set_value(5).run()
    at.button(key="blinded_record").click().run()
    assert any("3 before the reveal, 5 after" in s.value for s in at.success)
    with store_of() as store:
        rows = store.blinded_readings()
    row = rows[(rows["case_id"] == cases[2]) & (rows["reader"] == "doc")].iloc[0]
    assert (row.blinded_score, row.unblinded_score, row.proposed_score) == (3, 5, 5)
    assert row.model_version == "tiny-strain-test" and row.proposal_system == "tsukuba"
    assert row.blinded_seconds >= 0 and row.unblinded_seconds >= 0
    at.button(key="blinded_next").click().run()
    assert any("No case left to read blinded" in i.value for i in at.info)  # each case is read blinded once

    audit = app("res", "researcher")
    comparison = next(d.value for d in audit.dataframe if "kappa_vs_proposal" in d.value.columns).set_index("phase")
    assert comparison.loc["blinded", "n"] == 3 and comparison.loc["unblinded", "n"] == 3
    assert comparison.loc["blinded", "agree_with_proposal"] == 0.0
    assert comparison.loc["unblinded", "agree_with_proposal"] == pytest.approx(2 / 3)
    assert [m.value for m in audit.metric] == ["3", "2", "2"]  # pairs, changed, moved to the proposal
    # the new model version's generation sits beside the old one on the same case
    audit.selectbox(key="audit_case").set_value(cases[2]).run()
    assert {"VIRTUAL STRAIN - model research-v1", "VIRTUAL STRAIN - model tiny-strain-test"} <= set(
        image_captions(audit)
    )


def test_researchers_and_viewers_cannot_read_blinded(app):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app("res", "researcher", "pages/blinded.py")
