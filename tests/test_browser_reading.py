"""The review page's reading tools in a real browser (Playwright + Debian Chromium), as a reader uses them:
calibrate, draw a lesion and a fat reference at the same depth three times (each ratio, the mean and SD), switch to
SWE and place a 5 mm Q-box (kPa and m/s), toggle the quality map, zoom in and measure a distance in mm.

Tiny fixture models paint one colour everywhere, so every strain ratio is 1.00 and the Q-box reads the one kPa of
that colour; the numbers themselves are checked in tests/test_measurements.py.
"""

from __future__ import annotations

import re

import pytest

from tests import test_browser
from tests.test_browser import settle, sign_in, sync_api

# The browser test module's fixtures: one app server for this module, Chromium, a fresh page per test.
server, browser, page = test_browser.server, test_browser.browser, test_browser.page

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # heavy: `make test-slow`, like test_browser.py
expect = sync_api.expect


def canvas_box(page) -> dict:
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()  # mouse coordinates are the viewport's: the canvas must be in sight
    return canvas.bounding_box()


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at ``start``, move to ``end`` and release; points are fractions of the canvas."""
    box = canvas_box(page)
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    settle(page)


def click(page, at: tuple[float, float]) -> None:
    box = canvas_box(page)
    page.mouse.click(box["x"] + box["width"] * at[0], box["y"] + box["height"] * at[1])
    settle(page)


def pick_tool(page, name: str) -> None:
    page.get_by_role("radiogroup", name="Tool").get_by_text(name).click()
    settle(page)


def open_sample_case(page, server) -> None:
    """Sign in and open the bundled sample as a new case: the review page, settled."""
    sign_in(page, server["url"], "doc")
    page.get_by_role("link", name="New case").click()
    page.get_by_role("tab", name="Bundled sample").click()
    page.get_by_role("button", name="Open as a new case").click()
    page.get_by_role("heading", name="Case C-").wait_for()
    settle(page)


def test_strain_ratio_series_qbox_quality_map_zoom_and_caliper(page, server):
    open_sample_case(page, server)

    # calibrate: an orange line over 40% of the canvas width is 20 mm
    pick_tool(page, "Calibrate")
    drag(page, (0.1, 0.9), (0.5, 0.9))
    page.get_by_label("Known length of the orange line (mm)").fill("20")
    page.get_by_role("button", name="Calibrate", exact=True).click()
    settle(page)
    expect(page.get_by_text(re.compile(r"Pixel spacing .* mm/px \(calibrated by a reader\)"))).to_be_visible()

    # three lesion + fat measurements at the same depth; each new lesion replaces the old one
    for i, (left, fat_x) in enumerate(((0.40, 0.12), (0.45, 0.15), (0.50, 0.18)), start=1):
        pick_tool(page, "Lesion ROI")
        drag(page, (left, 0.40), (left + 0.25, 0.62))
        pick_tool(page, "Fat reference")
        click(page, (fat_x, 0.51))
        expect(page.get_by_text(re.compile(r"Lesion mean strain .* ratio 1\.00"))).to_be_visible()
        expect(page.get_by_text("Fat reference at the lesion's depth")).to_be_visible()
        page.get_by_role("button", name=f"Record measurement ({i - 1}/5)").click()
        page.get_by_role("button", name=f"Record measurement ({i}/5)").wait_for()
        settle(page)
    expect(page.get_by_text(re.compile(r"Strain ratio mean 1\.00 ± SD 0\.00 \(n = 3\)"))).to_be_visible()
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="lesion strain")
    expect(table).to_have_count(1)
    assert page.get_by_text("is not at the lesion's depth").count() == 0

    # shear-wave: a 5 mm Q-box in kPa and m/s
    page.get_by_text("Shear-wave (SWE)", exact=True).click()
    page.get_by_text("VIRTUAL SWE").first.wait_for()
    settle(page)
    pick_tool(page, "Q-box")
    page.get_by_label("Q-box (mm)").fill("5")
    page.keyboard.press("Enter")
    settle(page)
    click(page, (0.55, 0.5))
    expect(page.get_by_text(re.compile(r"5 mm circle, \d+ pixels · Emax at x \d+, y \d+"))).to_be_visible()
    qbox = page.locator('[data-testid="stDataFrame"]').filter(has_text="m/s")
    expect(qbox).to_have_count(1)
    pick_tool(page, "Fat reference")
    click(page, (0.15, 0.5))
    expect(page.get_by_text(re.compile(r"Q-box ratio \(lesion / fat\) 1\.00"))).to_be_visible()

    # the quality map replaces the elastogram while toggled
    quality_toggle = page.get_by_test_id("stCheckbox").get_by_text("Quality map")
    quality_toggle.click()
    settle(page)
    # the fixture models predict an uncertainty (colour-map head): the map shows it, not the colour-distance stand-in
    expect(page.get_by_text(re.compile(r"Quality map \(model uncertainty\)"))).to_be_visible()
    expect(page.get_by_text("White is no reassurance", exact=False)).to_be_visible()  # what white does not mean
    test_browser.shot(page, "review_quality_map")
    expect(page.get_by_text(re.compile(r"ROI confidence \d+%"))).to_be_visible()
    quality_toggle.click()
    settle(page)
    expect(page.get_by_text("Virtual elastogram", exact=True)).to_be_visible()

    # zoom 2x: the same canvas length is half the distance
    pick_tool(page, "Caliper")
    drag(page, (0.1, 0.8), (0.5, 0.8))
    expect(page.get_by_text(re.compile(r"Caliper distance 20\.0 mm"))).to_be_visible()
    page.get_by_text("2x", exact=True).click()
    settle(page)
    drag(page, (0.1, 0.8), (0.5, 0.8))
    expect(page.get_by_text(re.compile(r"Caliper distance 10\.0 mm"))).to_be_visible()


def test_a_drawn_roi_survives_leaving_the_review_page_and_coming_back(page, server):
    """Unsaved marks are the reader's work: a page switch must not erase them. The remounted canvas used to send
    back the initial drawing it was first built with (no ROI yet) as an edit, which replaced the kept marks."""
    open_sample_case(page, server)
    pick_tool(page, "Lesion ROI")
    drag(page, (0.40, 0.40), (0.65, 0.62))
    lesion_size = page.get_by_text(re.compile(r"Lesion size \(scored region\)"))
    expect(lesion_size).to_be_visible()
    page.get_by_role("link", name="Worklist").click()
    page.get_by_role("heading", name="Worklist").wait_for()
    settle(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Review").click()
    page.get_by_role("heading", name="Case C-").wait_for()
    settle(page)
    settle(page)  # the canvas mounts again and sends its drawing: the marks must come back, not go
    expect(lesion_size).to_be_visible()


def test_a_small_lesion_is_read_framed_and_one_click_recrops_the_case_keeping_the_roi(page, server):
    """The framed reading of a lesion small in the frame, and its re-crop, as a reader clicks them: the note that
    the case was re-cropped stays up, and the lesion ROI is on the new image, measured and proposed."""
    open_sample_case(page, server)
    pick_tool(page, "Lesion ROI")
    drag(page, (0.45, 0.45), (0.55, 0.55))  # a tenth of the frame
    expect(page.get_by_text("Framed reading", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Proposed on the framed box: \d"))).to_be_visible()
    expect(page.get_by_text("B-mode in the box")).to_be_visible()
    page.get_by_role("button", name="Re-crop the case to this box").click()
    settle(page)
    settle(page)  # the canvas mounts on the new image and reports its drawing: a rerun that must keep the note
    expect(page.get_by_text("re-cropped to the framed box")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Lesion size \(scored region\)"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Lesion spans 3\d% of the frame"))).to_be_visible()
    expect(page.get_by_text("Framed reading", exact=True)).to_have_count(0)
