"""Issue 13 in a real browser (Playwright + Debian Chromium): a strain reading and an SWE reading of one case, each
signed on its own model and scale, with byte-identical PDFs; stale saves and signs refused between two users and
between two tabs of one user; signing refused with exactly what is missing. Server and browser fixtures come from
test_browser.py (a ``streamlit run`` on a temporary data folder with the tiny fixture models)."""

# ruff: noqa: F811
from __future__ import annotations

import csv
import io
import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.test_browser import WAIT_MS, browser, server, settle, sign_in, sync_api  # noqa: F401  (fixtures, helpers)

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # heavy: `make test-slow`, like test_browser.py
expect = sync_api.expect


@pytest.fixture
def context(browser):
    made = []

    def new():
        ctx = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        ctx.set_default_timeout(WAIT_MS)  # every tab: generous, the test machine may be loaded
        made.append(ctx)
        return ctx.new_page()

    yield new
    for ctx in made:
        ctx.close()


def new_case(page, server, tmp_path) -> str:
    bmode = np.asarray(Image.open(next((server["root"] / "samples").glob("*/bmode.png"))))
    upload = tmp_path / "scan.png"
    Image.fromarray(bmode).resize((192, 192)).save(upload)
    page.get_by_role("link", name="New case").click()
    panel = page.get_by_role("tabpanel", name="Upload an image")  # the other tabs have uploaders too
    panel.locator('input[type="file"]').set_input_files(str(upload))
    panel.get_by_role("button", name="Create case and review").click()
    page.get_by_role("heading", name="Case C-").wait_for()
    settle(page)
    return page.get_by_role("heading", name="Case C-").inner_text().split()[-1]


def open_case(page, case_id: str) -> None:
    page.get_by_role("link", name="Worklist").click()
    page.get_by_role("heading", name="Worklist").wait_for()
    settle(page)
    page.get_by_role("combobox", name="Open case").click()
    page.get_by_role("option", name=case_id).click()
    page.locator(".st-key-worklist_open button").click()  # the Open button (each picker has an "Open" toggle too)
    page.get_by_role("heading", name=f"Case {case_id}").wait_for()
    settle(page)


def draw_lesion(page) -> None:
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()  # after a click at the page's foot the canvas is scrolled out of sight
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.65, steps=8)
    page.mouse.up()
    expect(page.locator('[data-testid="stMetricValue"]').first).not_to_have_text("-")
    settle(page)


def choose(page, score: int, conclusion: str) -> None:
    page.get_by_role("radiogroup", name="Confirmed score").get_by_text(str(score), exact=True).click()
    settle(page)
    page.get_by_label("Conclusion").fill(conclusion)
    page.get_by_label("Conclusion").press("Control+Enter")  # commit the text area before the next click
    settle(page)


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()
    settle(page)


def download(page, tmp_path, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name="PDF report").click()
    path = tmp_path / name
    info.value.save_as(path)
    return path.read_bytes()


def pdf_text(pdf: bytes, tmp_path, first: int = 1, last: int = 1) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-f", str(first), "-l", str(last), str(path), "-"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return " ".join(out.split())


def switch_mode(page, label: str) -> None:
    page.get_by_text(label, exact=True).click()  # a segmented control: its buttons' text is the mode's label
    settle(page)


def test_strain_then_swe_each_signed_on_its_own_model_and_scale_with_unchanging_pdfs(context, server, tmp_path):
    page = context()
    sign_in(page, server["url"], "doc")
    case_id = new_case(page, server, tmp_path)
    draw_lesion(page)
    choose(page, 4, "Whole lesion hard on the virtual strain elastogram.")
    click(page, "Sign")
    page.get_by_text("Review signed").wait_for()
    strain_pdf = download(page, tmp_path, "strain-1.pdf")
    assert download(page, tmp_path, "strain-2.pdf") == strain_pdf  # the archived file, not a re-render
    strain_text = pdf_text(strain_pdf, tmp_path)
    assert (
        case_id in strain_text and "tiny-strain-test" in strain_text and "Tsukuba 4 — whole lesion hard" in strain_text
    )
    assert "strain elastography" in strain_text and "tiny-swe-test" not in strain_text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", strain_text.replace(case_id, "")), "internal figure names on page 1"

    switch_mode(page, "Shear-wave (SWE)")
    expect(page.get_by_text("VIRTUAL SWE elastogram - model tiny-swe-test").first).to_be_visible()
    expect(page.get_by_text("Confirmed score (breast SWE class 1-2)")).to_be_visible()  # not the Tsukuba picker
    draw_lesion(page)
    choose(page, 2, "Emax at or above 80 kPa on the virtual SWE elastogram.")
    click(page, "Sign")
    page.get_by_text("Review signed").wait_for()
    swe_pdf = download(page, tmp_path, "swe.pdf")
    swe_text = pdf_text(swe_pdf, tmp_path)
    assert "tiny-swe-test" in swe_text and "breast SWE class 2" in swe_text and "kPa" in swe_text
    assert "shear-wave elastography" in swe_text and "Tsukuba" not in swe_text and "tiny-strain-test" not in swe_text

    switch_mode(page, "Strain (SE)")
    assert download(page, tmp_path, "strain-3.pdf") == strain_pdf  # unchanged after viewing the other mode

    click(page, "Sign out")  # a live session skips the sign-in form: doc signs out, then admin signs in
    page.get_by_text("You are signed out").wait_for()
    sign_in(page, server["url"], "admin")  # the research audit's readings export credits each reading correctly
    page.get_by_role("link", name="Research audit").click()
    page.get_by_role("heading", name="Research audit").wait_for()
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Readings (CSV)").click()
    path = tmp_path / "readings.csv"
    info.value.save_as(path)
    rows = {r["mode"]: r for r in csv.DictReader(io.StringIO(path.read_text())) if r["case_id"] == case_id}
    assert (rows["strain"]["model_version"], rows["strain"]["scale"], rows["strain"]["confirmed_score"]) == (
        "tiny-strain-test", "tsukuba", "4")  # fmt: skip
    assert (rows["swe"]["model_version"], rows["swe"]["scale"], rows["swe"]["confirmed_score"]) == (
        "tiny-swe-test", "swe_breast", "2")  # fmt: skip


def test_signing_without_roi_proposal_score_or_conclusion_is_refused_with_what_is_missing(context, server, tmp_path):
    page = context()
    sign_in(page, server["url"], "doc")
    new_case(page, server, tmp_path)
    click(page, "Sign")
    error = page.get_by_text("Not signed: missing")
    error.wait_for()
    text = error.inner_text()
    for item in ("a lesion ROI", "the algorithm's proposal computed on the elastogram shown",
                 "a confirmed score on Tsukuba 1-5", "a conclusion"):  # fmt: skip
        assert item in text, item
    draw_lesion(page)  # now only the score and the conclusion are missing
    click(page, "Sign")
    text = page.get_by_text("Not signed: missing").inner_text()
    assert "lesion ROI" not in text and "proposal" not in text and "a confirmed score" in text
    expect(page.get_by_role("button", name="Amend")).to_have_count(0)


def _conflict(context, server, tmp_path, first_user: str, second_user: str, same_browser: bool) -> None:
    first = context()
    sign_in(first, server["url"], first_user)
    case_id = new_case(first, server, tmp_path)
    draw_lesion(first)
    click(first, "Save draft")
    first.get_by_text("Review draft").wait_for()
    if same_browser:  # a second tab of the same browser shares its session: no sign-in form
        assert second_user == first_user
        second = first.context.new_page()
        second.goto(server["url"])
        second.get_by_role("button", name="Sign out").wait_for()
    else:
        second = context()
        sign_in(second, server["url"], second_user)
    open_case(second, case_id)
    choose(second, 5, "Signed in the other page.")
    click(second, "Sign")
    second.get_by_text("Review signed").wait_for()

    choose(first, 3, "The first page's work.")
    click(first, "Save draft")
    refused = first.get_by_text(re.compile(f"Not saved: .*changed by {second_user} at .* — reload"))
    refused.wait_for()
    click(first, "Sign")  # a stale Sign is refused as well, never a silent no-op beside "signed"
    expect(first.get_by_text(re.compile(f"changed by {second_user} at")).first).to_be_visible()
    expect(first.get_by_role("button", name="Amend")).to_have_count(0)
    click(first, "Reload")  # reload shows the other page's signed work
    expect(first.get_by_label("Conclusion")).to_have_value("Signed in the other page.")
    expect(first.get_by_role("button", name="Amend")).to_be_visible()
    expect(first.get_by_text("Lesion and surrounding tissue hard", exact=True)).to_be_visible()  # score 5's wording


def test_two_users_a_stale_save_and_sign_are_refused_and_reload_shows_the_other_work(context, server, tmp_path):
    _conflict(context, server, tmp_path, "doc", "admin", same_browser=False)


def test_two_tabs_of_one_user_a_stale_tab_is_refused(context, server, tmp_path):
    _conflict(context, server, tmp_path, "doc", "doc", same_browser=True)
