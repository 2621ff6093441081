"""Screenshots of the research audit, the blinded-reading page and the teaching lab in presentation mode, with the
*real* bundled models (the tests use tiny one-colour fixture models and never write screenshots).

    .venv/bin/python scripts/research_screenshots.py [--out docs/screenshots]

Builds a small archive in a temporary ``USEGAN_DATA_DIR``: every bundled sample with a lesion becomes a case, the
bundled strain model generates its virtual elastogram, the algorithm proposes a score on the sample's true lesion
outline, and a clinician signs the phantom's true Tsukuba score; one case is read blinded. Then it drives Debian's
Chromium with Playwright and writes:

* ``real_audit.png``: agreement with intervals, per-scale confusion matrix, score histograms;
* ``real_audit_gallery.png``: the gallery for the malignant sample: B-mode, VIRTUAL and real elastograms, ROIs;
* ``real_blinded.png``: a blinded reading after the reveal;
* ``real_teaching_presentation.png``: the teaching lab in presentation mode (large images, colour bars in kPa).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "screenshots-42-pass"
USERS = {"dr.rad": "clinician", "dr.second": "clinician", "researcher": "researcher"}
WIDTH, HEIGHT = 1600, 1000


def build_archive(store, samples_dir: Path) -> dict[str, str]:
    """Cases from the bundled samples with a real-model generation, a proposal and a signed reading; returns
    ``{sample name: case id}``."""
    from usegan.active_model import resolve
    from usegan.imageio import load_image
    from usegan.inference import VirtualElastographer
    from usegan.scoring import Rect
    from usegan.services.intake import create_sample_case, list_samples
    from usegan.services.service import generate_for_case, score_rois
    from usegan.ui.roi_canvas import rois_to_json
    from usegan.vocab import Mode

    model = VirtualElastographer.from_checkpoint(resolve(Mode.STRAIN, store))
    cases = {}
    for i, sample in enumerate(s for s in list_samples(samples_dir) if s.tsukuba):
        reader = "dr.rad" if i % 2 == 0 else "dr.second"
        case_id = create_sample_case(store, sample, reader)
        generation = generate_for_case(store, case_id, model, reader)
        box = sample.meta["box"]
        mask = np.asarray(load_image(sample.folder / "mask.png")) > 0
        mask = mask[box["y"] : box["y"] + box["h"], box["x"] : box["x"] + box["w"]]
        rows, cols = np.nonzero(mask)
        rois = {"lesion": Rect(int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)}
        result = score_rois(generation.elastogram(), Mode.STRAIN, generation.colour_scale, rois, "breast")
        shown = store.add_prescore(case_id, generation.generation_id, result.to_dict(), rois_to_json(rois),
                                   created_by=reader)  # fmt: skip
        draft = store.save_draft(case_id, reader, rois_to_json(rois), int(sample.tsukuba), "phantom truth", 0,
                                 generation_id=generation.generation_id, prescore_id=shown)  # fmt: skip
        store.sign(case_id, reader, draft.row_version)
        cases[sample.name] = case_id
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from playwright.sync_api import expect, sync_playwright

    from tests.test_browser import ARGS, CHROMIUM, free_port, settle, start_app
    from usegan.settings import get_settings
    from usegan.store import open_store

    expect.set_options(timeout=60_000)
    root = Path(tempfile.mkdtemp(prefix="usegan-research-shots-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("USEGAN_")}  # real models and samples
    env["USEGAN_DATA_DIR"] = str(root / "data")
    os.environ["USEGAN_DATA_DIR"] = env["USEGAN_DATA_DIR"]  # the intake pipeline reads the process's settings
    settings = get_settings(environ=env)
    with open_store(settings) as store:
        for name, role in USERS.items():
            store.add_user(name, PASSWORD, role, created_by="scripts/research_screenshots.py")
        cases = build_archive(store, settings.samples_dir)
    print(f"archive: {len(cases)} signed cases")
    args.out.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        settle(page)
        height = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
        page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(height) + 40)})
        settle(page)
        page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        print(f"wrote {args.out / name}.png")

    def sign_in(page, user: str, heading: str) -> None:
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name=heading).wait_for()

    port = free_port()
    process = start_app({**env, "STREAMLIT_CLIENT_TOOLBAR_MODE": "minimal"}, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(120_000)

            # a blinded reading by the clinician who did not sign the malignant sample
            sign_in(page, "dr.second", "Worklist")
            page.get_by_role("link", name="Blinded reading").click()
            page.get_by_role("heading", name="Blinded reading").wait_for()
            page.get_by_role("combobox", name="Case").click()
            page.get_by_role("option").filter(has_text=cases["case_00003"]).click()
            page.get_by_role("button", name="Start blinded reading").click()
            page.get_by_text("3: ", exact=False).first.click()
            settle(page)
            page.get_by_role("button", name="Commit and reveal").click()
            page.get_by_text("VIRTUAL STRAIN elastogram").first.wait_for()
            settle(page)
            shot(page, "real_blinded")
            page.get_by_role("radiogroup", name="Your score after the reveal").get_by_text("4: ").click()
            settle(page)
            page.get_by_role("button", name="Record").click()
            page.get_by_text("Recorded:").wait_for()
            page.get_by_role("button", name="Sign out").click()

            sign_in(page, "researcher", "Research audit")
            page.locator(".js-plotly-plot").first.wait_for()
            shot(page, "real_audit")
            page.get_by_role("tab", name="Gallery").click()
            page.get_by_role("combobox", name="Case").click()
            page.get_by_role("option", name=cases["case_00003"]).click()
            page.get_by_text("Real STRAIN").first.wait_for()
            shot(page, "real_audit_gallery")

            page.get_by_role("link", name="Teaching lab").click()
            page.get_by_text("Presentation mode").click()
            page.get_by_role("combobox", name="Lesion type").click()
            page.get_by_role("option", name="malignant", exact=True).click()
            page.get_by_text("Truth").first.wait_for()
            shot(page, "real_teaching_presentation")
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
