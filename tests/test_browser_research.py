"""In a real browser: the teaching quiz's Check works after "Next case" (the old page kept the previous answer
selected with Check disabled), and a researcher sees a case's images in the audit gallery without identifiers."""

# ruff: noqa: F811 (the browser and page fixtures are test_browser.py's, imported, then named as parameters)
from __future__ import annotations

import subprocess

import pytest

from tests.app_fixtures import make_environment
from tests.research_fixtures import ORIGINAL_NAME, PATIENT_ID, research_archive
from tests.test_browser import WAIT_MS, browser, free_port, page, settle, sign_in, start_app, sync_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from pathlib import Path

    from usegan.store import Store

    root = tmp_path_factory.mktemp("browser-research-env")
    env = make_environment(root, n_samples=1)
    data = Path(env["USEGAN_DATA_DIR"])
    with Store(data / "usegan.duckdb", data / "images") as store:
        cases = research_archive(store, reader="doc", second_reader="admin")
    port = free_port()
    process = start_app(env, port)
    yield {"url": f"http://127.0.0.1:{port}", "cases": cases}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def feedback(page):
    return page.locator('[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentWarning"]')


def test_quiz_check_works_after_next_case(page, server):
    sign_in(page, server["url"], "student")
    page.get_by_role("heading", name="Teaching lab").wait_for()
    page.get_by_role("tab", name="Quiz: Tsukuba").click()
    quiz = page.get_by_role("tabpanel", name="Quiz: Tsukuba")
    check = quiz.get_by_role("button", name="Check")
    quiz.get_by_text("3", exact=True).click()
    settle(page)
    check.click()
    feedback(quiz).first.wait_for()
    quiz.get_by_role("button", name="Next case").click()
    settle(page)
    assert feedback(quiz).count() == 0 and check.is_disabled()  # a new case: no answer selected, nothing graded
    quiz.get_by_text("2", exact=True).click()
    settle(page)
    assert check.is_enabled()
    check.click()
    feedback(quiz).first.wait_for()
    assert "Tsukuba" in feedback(quiz).first.inner_text()
    assert page.get_by_text("Session tally").is_visible()


def test_researcher_sees_gallery_images_without_identifiers(page, server):
    sign_in(page, server["url"], "res")
    page.get_by_role("heading", name="Research audit").wait_for()
    page.get_by_role("tab", name="Gallery").click()
    gallery = page.get_by_role("tabpanel", name="Gallery")
    gallery.get_by_text("VIRTUAL STRAIN - model research-v1").first.wait_for()
    settle(page)
    images = gallery.locator('[data-testid="stImage"] img')
    assert images.count() >= 2
    for i in range(images.count()):  # each one loads (in its own time on a loaded machine) and is a real picture
        sync_api.expect(images.nth(i)).to_have_js_property("complete", True, timeout=WAIT_MS)
        assert images.nth(i).evaluate("img => img.naturalWidth > 0")
    text = page.locator('[data-testid="stApp"]').inner_text()
    assert PATIENT_ID not in text and ORIGINAL_NAME not in text and "Smith" not in text
    assert gallery.get_by_role("button", name="Open in review").count() == 0
