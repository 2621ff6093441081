"""In a real browser (issue 14): on the New-case page the orange crop box moves on the image as the crop is adjusted,
before any case exists; an existing case is re-cropped and then withdrawn (off the worklist).

The box is found in a screenshot of the preview image (its orange outline), so the test sees what a user sees."""

# ruff: noqa: F811 (the browser and page fixtures are test_browser.py's, imported, then named as parameters)
from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.app_fixtures import make_environment
from tests.intake_fixtures import CAPTURE_BOX, band_capture
from tests.test_browser import browser, free_port, settle, shot, sign_in, start_app  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 640, 480  # the capture


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-intake-env")
    env = make_environment(root, n_samples=1)
    port = free_port()
    process = start_app(env, port)
    yield {"url": f"http://127.0.0.1:{port}"}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def page(browser):
    """test_browser.py's page with a longer wait: on a loaded 2-core machine a sign-in alone took 77 s."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(240_000)
    yield page
    context.close()


@pytest.fixture
def capture_file(tmp_path):
    path = tmp_path / "capture.png"
    Image.fromarray(band_capture()[0]).save(path)
    return path


def box_on_screen(image) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of the orange outline in a screenshot of the preview, as fractions of the
    image's width and height (the preview is scaled to the column, so fractions compare with the capture's)."""
    rgb = np.asarray(Image.open(io.BytesIO(image.screenshot())).convert("RGB")).astype(int)
    orange = (abs(rgb[..., 0] - 255) < 45) & (abs(rgb[..., 1] - 153) < 45) & (rgb[..., 2] < 70)
    cols = np.flatnonzero(orange.sum(axis=0) >= 20)  # the box's vertical edges (long lines, not stray pixels)
    rows = np.flatnonzero(orange.sum(axis=1) >= 20)
    assert cols.size and rows.size, "no orange crop box on the preview"
    height, width = orange.shape
    return cols[0] / width, rows[0] / height, (cols[-1] + 1) / width, (rows[-1] + 1) / height


def expected(x: int, y: int, w: int, h: int) -> tuple[float, float, float, float]:
    return x / WIDTH, y / HEIGHT, (x + w) / WIDTH, (y + h) / HEIGHT


def preview(panel):
    return panel.locator('[data-testid="stImage"]').filter(has_text="orange = image area kept").locator("img")


def set_number(panel, label: str, value: int) -> None:
    field = panel.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")  # a number input commits on Enter (or leaving it)


def upload(page, server, capture_file):
    sign_in(page, server["url"], "doc")
    page.get_by_role("link", name="New case").click()
    page.get_by_role("heading", name="New case").wait_for()
    panel = page.get_by_role("tabpanel", name="Upload an image")  # the other tabs have uploaders too
    panel.locator('input[type="file"]').set_input_files(str(capture_file))
    x, y, w, h = CAPTURE_BOX
    panel.get_by_text(f"x{x} y{y} {w}x{h} px").wait_for()  # the detected 400x400 image area
    settle(page)
    return panel


def test_the_crop_box_moves_before_the_case_is_created_then_the_case_is_recropped_and_withdrawn(
    page, server, capture_file
):
    # 1. before creating: the orange box follows the crop controls (one sign-in, one upload: a light test)
    panel = upload(page, server, capture_file)
    before = box_on_screen(preview(panel))
    assert np.allclose(before, expected(*CAPTURE_BOX), atol=0.02), before
    set_number(panel, "x", 160)
    panel.get_by_text("x160 y52 400x400 px").wait_for()
    set_number(panel, "height", 300)
    panel.get_by_text("x160 y52 400x300 px").wait_for()
    settle(page)
    after = box_on_screen(preview(panel))
    assert np.allclose(after, expected(160, 52, 400, 300), atol=0.02), after  # the box moved and shrank
    assert after[0] - before[0] > 0.1 and before[3] - after[3] > 0.15
    assert page.get_by_role("heading", name="New case").is_visible()  # still no case: nothing was submitted
    shot(page, "new_case_crop_adjusted")
    panel.get_by_role("button", name="Create case and review").click()
    heading = page.get_by_role("heading", name="Case C-")
    heading.wait_for()
    settle(page)  # the review page generates the elastogram first (slow on a loaded machine)
    case_id = heading.inner_text().split()[-1]

    # 2. the case just read is re-cropped to the whole image area: the box moves before anything is saved
    page.get_by_role("link", name="New case").click()
    page.get_by_role("heading", name="New case").wait_for()
    settle(page)
    page.get_by_role("tab", name="Re-crop or withdraw a case").click()
    fix = page.get_by_role("tabpanel", name="Re-crop or withdraw a case")
    fix.get_by_text(f"Case {case_id} (generated), original file").wait_for()  # preselected
    fix.get_by_text("x160 y52 400x300 px").wait_for()
    settle(page)
    assert np.allclose(box_on_screen(preview(fix)), expected(160, 52, 400, 300), atol=0.02)
    set_number(fix, "x", 80)
    fix.get_by_text("x80 y52 400x300 px").wait_for()
    set_number(fix, "height", 400)
    fix.get_by_text("x80 y52 400x400 px").wait_for()
    settle(page)
    assert np.allclose(box_on_screen(preview(fix)), expected(*CAPTURE_BOX), atol=0.02)  # moved before saving
    fix.get_by_label("Why re-crop (audited)").fill("lesion was cut")
    fix.get_by_role("button", name="Re-crop case").click()
    page.get_by_text(f"Case {case_id} re-cropped; the earlier image is kept.").wait_for()
    fix.get_by_text(f"Case {case_id} (new), original file").wait_for()
    assert fix.get_by_label("Why re-crop (audited)").input_value() == ""  # made: the form starts empty again
    shot(page, "new_case_recropped")

    # 3. withdrawn with a reason: a refused reason stays in the field to be corrected; then listed as withdrawn,
    # off the worklist
    reason = fix.get_by_label("Reason for withdrawing (audited; at least 3 characters)")
    reason.fill("no")
    fix.get_by_role("button", name="Withdraw case").click()
    page.get_by_text("a reason is required to withdraw a case").wait_for()
    assert reason.input_value() == "no"
    reason.fill("wrong patient")
    fix.get_by_role("button", name="Withdraw case").click()
    page.get_by_text(f"Case {case_id} withdrawn: kept in the archive, off the worklist.").wait_for()
    settle(page)
    fix.get_by_text("Withdrawn cases (1 shown, newest first)").click()
    fix.locator('[data-testid="stDataFrame"]').wait_for()
    shot(page, "new_case_withdrawn")
    page.get_by_role("link", name="Worklist").click()
    page.get_by_role("heading", name="Worklist").wait_for()
    page.get_by_text("0 matching case(s)").wait_for()
