"""Each page's logic through ``streamlit.testing.v1.AppTest`` (no browser): the login gate, roles, the review
flow from a bundled sample to a signed review, the worklist, audit, teaching and models pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from usegan.dashboard.fixtures import PASSWORD, make_environment

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    yield make_environment(tmp_path_factory.mktemp("app-env"), n_samples=1)
    # The app caches its Store (a DuckDB connection) with st.cache_resource; drop it so the connection closes
    # here rather than at interpreter exit.
    import gc

    import streamlit as st

    st.cache_resource.clear()
    gc.collect()


@pytest.fixture
def app(environment, monkeypatch):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)

    def start(user: str | None = None, role: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if user:
            at.session_state["auth_user"] = {"username": user, "role": role}
        return at.run()

    return start


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_signed_out_browser_sees_only_the_login_page(app):
    at = app()
    assert titles(at) == ["USE-GAN virtual elastography"] and not at.exception
    with pytest.raises(ValueError, match="Known pages: .*login.py'\\]"):  # only the login page is registered
        at.switch_page("pages/worklist.py")


def test_login_rejects_a_wrong_password_and_accepts_the_right_one(app):
    at = app()
    at.text_input(key="login_username").input("doc")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert "wrong user name or password" in at.error[0].value and "auth_user" not in at.session_state
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["auth_user"] == {"username": "doc", "role": "clinician"}
    at.run().switch_page("pages/worklist.py").run()  # the navigation now holds the clinician's pages
    assert "Worklist" in titles(at)


def test_a_viewer_cannot_open_the_clinical_worklist(app):
    at = app("student", "viewer")
    assert titles(at) == ["Teaching lab"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/worklist.py")


def test_review_flow_from_a_sample_to_a_signed_review(app, environment):
    at = app("doc", "clinician")
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()
    case_id = at.session_state["review_case_id"]
    assert titles(at) == [f"Case {case_id}"] and not at.exception
    assert any("VIRTUAL STRAIN elastogram - model tiny-strain-test" in m.value for m in at.markdown)
    assert at.metric[0].value == "-"  # no ROI yet: no proposal
    assert any("draw a lesion ROI" in m.value for m in at.markdown)
    assert any("SSIM virtual vs real" in c.value for c in at.caption)  # the sample's true elastogram is attached

    # ROIs saved with a draft come back as the starting ROIs (the canvas itself needs a browser: test_browser.py).
    from usegan.dashboard.service import open_case
    from usegan.scoring import Rect
    from usegan.store import Store

    rois = {"lesion": {"type": "rect", "x": 30, "y": 30, "w": 30, "h": 30}}
    with Store(
        Path(environment["USEGAN_DATA_DIR"]) / "usegan.duckdb", Path(environment["USEGAN_DATA_DIR"]) / "images"
    ) as s:
        s.save_draft(case_id, "doc", rois, None, "", 0)
    at = app("doc", "clinician")
    at.session_state["review_case_id"] = case_id
    at.switch_page("pages/review.py").run()
    assert at.metric[0].value == "5"  # the fixture model paints everything hard: Tsukuba 5
    at.radio(key=f"review_score_{case_id}").set_value(4)
    at.button(key="review_template").click().run()
    assert "Tsukuba 4" in at.text_area(key=f"review_conclusion_{case_id}").value
    at.button(key="review_sign").click().run()
    assert not at.exception and any("signed" in s.value for s in at.success)
    with Store(
        Path(environment["USEGAN_DATA_DIR"]) / "usegan.duckdb", Path(environment["USEGAN_DATA_DIR"]) / "images"
    ) as s:
        view = open_case(s, case_id, "strain")
        assert (
            view.review.confirmed_score == 4
            and view.prescore.score == 5
            and view.rois["lesion"] == Rect(30, 30, 30, 30)
        )
    at.run()
    assert at.get("download_button") and at.button(key="review_amend")


def test_review_without_a_case_says_where_to_go(app):
    at = app("doc", "clinician")
    at.switch_page("pages/review.py").run()
    assert "No case is open" in at.info[0].value


def test_worklist_lists_cases_with_counts_and_filters(app):
    at = app("admin", "admin")
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()
    at.switch_page("pages/worklist.py").run()
    assert titles(at) == ["Worklist"] and at.metric[0].label == "Total" and int(at.metric[0].value) >= 1
    assert at.session_state["review_case_id"] in at.dataframe[0].value["case_id"].tolist()
    at.text_input(key="worklist_search").input("no-such-case").run()
    assert at.dataframe[0].value.empty


def test_audit_teaching_and_models_pages_render(app):
    at = app("res", "researcher")
    assert titles(at) == ["Research audit"] and not at.exception
    at.switch_page("pages/teaching.py").run()
    assert not at.exception and any("Truth" in m.value for m in at.markdown)
    at = app("admin", "admin")
    at.switch_page("pages/models.py").run()
    assert titles(at) == ["Models"] and any("tiny-strain-test" in m.value for m in at.markdown)
    at.button(key="models_activate_tiny-strain-test").click().run()
    assert not at.exception and any("`active`" in m.value for m in at.markdown)
