"""README screenshots with the *real* bundled models (the browser tests use tiny one-colour fixture models).

    .venv/bin/python scripts/screenshots.py [--sample case_00004] [--out docs/screenshots]

Starts ``streamlit run serve.py`` on a free localhost port with a temporary ``USEGAN_DATA_DIR`` and the default model
and sample folders (``data/models``, ``data/samples``), creates a clinician through the store API, then drives
Debian's Chromium with Playwright like a radiologist would: sign in, open a bundled malignant sample as a new case,
draw the lesion rectangle and a reference ROI in the fat layer with the mouse, wait for the proposal, and save
full-page screenshots:

* ``real_new_case.png``: the bundled-sample tab with the chosen sample;
* ``real_review.png``: strain review with both ROIs and the proposal;
* ``real_review.png``'s strain ratio: lesion rectangle + a fat circle in the fat layer, three measurements with
  mean and SD (the phantom's fat lies above the lesion, so the page warns that the depths differ);
* ``real_review_swe.png``: the same case in shear-wave mode, ROIs redrawn, elastogram overlaid on the B-mode,
  a 5 mm Q-box on the lesion (kPa and m/s, Emax marked);
* ``real_review_quality.png``: the SWE view with the quality map instead of the elastogram;
* ``real_worklist.png``: the worklist with the new case;
* ``real_teaching.png``: the teaching lab's phantom lab with a malignant (stiff-halo) lesion.

The ROIs come from the sample's own truth (``mask.png`` and the fat layer depth in ``meta.json``), cropped to the
elastography box as the case is. The server is stopped and the temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER, ROLE, PASSWORD = "dr.rad", "clinician", "screenshots-42-pass"
WIDTH, HEIGHT = 1500, 1000  # browser viewport; the height grows for each full-page shot
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the canvas width / height


def sample_rois(folder: Path) -> tuple[Rect, Rect]:
    """Lesion and fat-reference rectangles of a sample, as fractions of its elastography box.

    Lesion: the bounding box of ``mask.png`` inside the box, 12% margin. Reference: the middle of the fat layer
    (``skin_mm`` .. ``skin_mm + fat_mm`` deep), left part of the box.
    """
    meta = json.loads((folder / "meta.json").read_text())
    box, params, mm = meta["box"], meta["params"], float(meta["mm_per_px"])
    x, y, w, h = (int(box[k]) for k in ("x", "y", "w", "h"))
    mask = np.asarray(Image.open(folder / "mask.png").convert("L"))[y : y + h, x : x + w] > 0
    if not mask.any():
        raise ValueError(f"sample {folder.name} has no lesion inside its box {box!r}")
    rows, cols = np.nonzero(mask)
    margin_x, margin_y = 0.12 * (cols.max() - cols.min()), 0.12 * (rows.max() - rows.min())
    lesion = (
        max(cols.min() - margin_x, 0) / w,
        max(rows.min() - margin_y, 0) / h,
        min(cols.max() + margin_x, w - 1) / w,
        min(rows.max() + margin_y, h - 1) / h,
    )
    fat_top = params["skin_mm"] / mm - y
    fat_bottom = (params["skin_mm"] + params["fat_mm"]) / mm - y
    top, bottom = max(fat_top + 0.2 * (fat_bottom - fat_top), 1), fat_bottom - 0.2 * (fat_bottom - fat_top)
    if bottom - top < 4:
        raise ValueError(f"fat layer of {folder.name} is not inside its box: rows {fat_top:.0f}..{fat_bottom:.0f}")
    # Left part of the layer: the fat lies above the lesion, and the canvas toolbar covers the top right corner
    # (a mouse-down there never reaches the canvas).
    return lesion, (0.05, top / h, 0.4, bottom / h)


def draw_rect(page, rect: Rect) -> None:
    """Drag a rectangle on the review canvas with the mouse."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    x0, y0, x1, y1 = rect
    page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (x0 + x1) / 2, box["y"] + box["height"] * (y0 + y1) / 2, steps=6)
    page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1, steps=6)
    page.mouse.up()


def pick_tool(page, settle, name: str) -> None:
    page.get_by_role("radiogroup", name="Tool").get_by_text(name).click()
    settle(page)


def click_at(page, x: float, y: float) -> None:
    box = page.locator("canvas.upper-canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)


def calibrate_if_unknown(page, settle, width_px: int, mm_per_px: float) -> None:
    """Calibrate the case from the sample's known pixel size when the case carries no spacing of its own."""
    if page.get_by_text("Pixel spacing unknown").count() == 0:
        return
    pick_tool(page, settle, "Calibrate")
    draw_rect(page, (0.1, 0.97, 0.9, 0.97))  # a horizontal line: start and end at the same height
    settle(page)
    page.get_by_label("Known length of the orange line (mm)").fill(f"{0.8 * width_px * mm_per_px:.3f}")
    page.get_by_role("button", name="Calibrate", exact=True).click()
    page.get_by_text("calibrated by a reader").first.wait_for()
    settle(page)


def draw_lesion_and_fat(page, settle, lesion: Rect, reference: Rect, mode: str, records: int = 0) -> None:
    """The lesion rectangle, then a fat circle in the reference area; in strain mode record ``records``
    measurements, moving the fat circle a little each time."""
    pick_tool(page, settle, "Lesion ROI")
    draw_rect(page, lesion)
    page.locator(".js-plotly-plot").filter(has_text="lesion ROI").first.wait_for()
    settle(page)
    fat_x, fat_y = (reference[0] + reference[2]) / 2, (reference[1] + reference[3]) / 2
    for i in range(max(1, records)):
        pick_tool(page, settle, "Fat reference")
        click_at(page, fat_x - 0.08 + 0.08 * i, fat_y)
        settle(page)
        if mode == "strain":
            page.get_by_text(re.compile(r"Lesion mean strain .* ratio \d")).first.wait_for()
            if records:
                page.get_by_role("button", name=f"Record measurement ({i}/5)").click()
                page.get_by_role("button", name=f"Record measurement ({i + 1}/5)").wait_for()
        settle(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="case_00004", help="bundled sample folder name (a malignant one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from playwright.sync_api import expect, sync_playwright

    from tests.test_browser import ARGS, CHROMIUM, free_port, settle, start_app
    from usegan.settings import get_settings
    from usegan.store import open_store

    expect.set_options(timeout=60_000)
    samples_dir = get_settings(environ={}).samples_dir
    lesion, reference = sample_rois(samples_dir / args.sample)
    root = Path(tempfile.mkdtemp(prefix="usegan-shots-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("USEGAN_")}  # real models and samples
    env["USEGAN_DATA_DIR"] = str(root / "data")
    with open_store(get_settings(environ=env)) as store:
        store.add_user(USER, PASSWORD, ROLE, created_by="scripts/screenshots.py")
    args.out.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        # Streamlit scrolls inside its main container, so a "full page" screenshot is only the viewport: grow the
        # viewport to the content's height for the shot, then restore it.
        settle(page)
        height = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
        page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(height) + 40)})
        settle(page)
        page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        print(f"wrote {args.out / name}.png")

    port = free_port()
    process = start_app({**env, "STREAMLIT_CLIENT_TOOLBAR_MODE": "minimal"}, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(120_000)  # real models on a loaded 2-core machine
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_label("User name").fill(USER)
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Worklist").wait_for()

            page.get_by_role("link", name="New case").click()
            page.get_by_role("tab", name="Bundled sample").click()
            page.get_by_role("combobox", name="Sample case").click()
            page.get_by_role("option").filter(has_text=args.sample).click()
            settle(page)
            shot(page, "real_new_case")
            page.get_by_role("button", name="Open as a new case").click()
            page.get_by_role("heading", name="Case C-").wait_for()
            page.locator("canvas.upper-canvas").wait_for()
            settle(page)
            meta = json.loads((samples_dir / args.sample / "meta.json").read_text())
            calibrate_if_unknown(page, settle, int(meta["box"]["w"]), float(meta["mm_per_px"]))
            draw_lesion_and_fat(page, settle, lesion, reference, "strain", records=3)
            expect(page.locator('[data-testid="stMetricValue"]').first).not_to_have_text("-")
            shot(page, "real_review")

            page.get_by_text("Shear-wave (SWE)", exact=True).click()
            page.get_by_text("VIRTUAL SWE").first.wait_for()
            settle(page)
            expect(page.locator("canvas.upper-canvas")).to_have_count(1)  # the strain canvas is gone
            slider = page.get_by_role("slider", name="Elastogram over the B-mode")
            slider.focus()
            for _ in range(9):  # 0 -> 0.45: the elastogram over the B-mode, the anatomy still visible
                slider.press("ArrowRight")
            settle(page)
            draw_lesion_and_fat(page, settle, lesion, reference, "swe")
            pick_tool(page, settle, "Q-box")
            page.get_by_label("Q-box (mm)").fill("5")
            page.keyboard.press("Enter")
            settle(page)
            click_at(page, (lesion[0] + lesion[2]) / 2, (lesion[1] + lesion[3]) / 2)
            page.get_by_text(re.compile(r"5 mm circle")).wait_for()
            shot(page, "real_review_swe")
            page.get_by_test_id("stCheckbox").get_by_text("Quality map").click()
            page.get_by_text(re.compile(r"Quality map \(")).first.wait_for()
            shot(page, "real_review_quality")

            page.get_by_role("link", name="Worklist").click()
            page.get_by_text("1 matching case(s)").wait_for()
            page.locator('[data-testid="stDataFrame"]').wait_for()
            shot(page, "real_worklist")

            page.get_by_role("link", name="Teaching lab").click()
            page.get_by_role("combobox", name="Lesion type").click()
            page.get_by_role("option", name="malignant_halo").click()
            # Shape left at the default (oval): a spiculated malignant_halo phantom is labelled Tsukuba 1-3 by the
            # phantom's truth (reported as a bug), which would put a wrong "Truth" under the README image.
            page.get_by_text("Truth").first.wait_for()
            settle(page)
            shot(page, "real_teaching")
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except Exception:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
