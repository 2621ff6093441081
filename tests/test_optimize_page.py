"""The Models page's fine-tune and promotion controls through ``streamlit.testing.v1.AppTest`` (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import app_session, make_environment

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def admin_models_page(tmp_path, monkeypatch):
    for key, value in make_environment(tmp_path, n_samples=0).items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth_user"] = app_session("admin")
    at.run()
    at.switch_page("pages/models.py").run()
    return at


def test_models_page_shows_pairs_and_refuses_a_fine_tune_without_pairs(admin_models_page):
    at = admin_models_page
    assert not at.exception
    assert any("strain: 0 train / 0 validation" in c.value for c in at.caption)
    assert any("No fine-tune has run yet" in i.value for i in at.info)
    at.button(key="models_ft_start").click().run()
    assert not at.exception
    assert any("no strain training pairs" in e.value for e in at.error)
    # a bundled model made active from the page is registered and can then be rolled back to / from
    at.button(key="models_activate_tiny-strain-test").click().run()
    assert not at.exception and any("`active`" in m.value for m in at.markdown)
