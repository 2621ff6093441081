"""Browser-driven timing of the review page for a small and a 36 MP image: open the case, re-score a drawn ROI.

    nice -n 10 .venv/bin/python bench/dashboard_speed.py [--repeats 5] [--models DIR] [--large 6000] [--json]

Starts ``streamlit run serve.py`` on a free port with a temporary data folder (fixture users and samples from
:mod:`tests.app_fixtures`; models from ``--models``, default the tiny fixture models). Two cases are created first
through the intake pipeline, as an upload would be: a 256 x 256 B-mode and a ``--large`` x ``--large`` one (6000:
36 MP; intake stores its reading copy, :mod:`usegan.downscale`). Debian's Chromium (Playwright) then opens each
case from the worklist and draws lesion rectangles with the mouse, and reports per image and action:

* ``server_ms``: the review page's own run time, printed by the page ("Server time for this view: N ms");
* ``browser_ms``: from the click / mouse-up until the result is on screen (websocket and rendering included).

"open_cold" = first opening (the virtual elastogram is generated), "open_warm" = opening again (generation stored),
"roi" = a new lesion rectangle until the page shows its new size (the proposal and the measurements are computed in
the same run). The last line compares the large image's medians with the small one's (the goal: within 2x).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def server_ms(page) -> float:
    text = page.get_by_text(re.compile(r"Server time for this view: \d+ ms")).last.inner_text()
    return float(re.search(r"(\d+) ms", text).group(1))


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def make_cases(env: dict[str, str], large: int) -> dict[str, str]:
    """A 256 px and a ``large`` px upload of the fixture sample's B-mode, through the intake pipeline."""
    from usegan.intake.pipeline import Intake
    from usegan.screencrop import CropBox
    from usegan.settings import get_settings
    from usegan.store import open_store

    settings = get_settings(environ=env)
    sample = next(Path(settings.samples_dir).glob("*/bmode.png"))
    small = np.asarray(Image.open(sample).convert("L").resize((256, 256)))
    rng = np.random.default_rng(0)
    big = np.asarray(Image.fromarray(small).resize((large, large), Image.BILINEAR)).astype(np.int16)
    big = np.clip(big + rng.integers(-12, 13, big.shape), 0, 255).astype(np.uint8)  # speckle at full resolution
    cases = {}
    with open_store(settings) as store:
        intake = Intake(store, settings)
        for name, pixels in (("256 px", small), (f"{large * large / 1e6:.0f} MP", big)):
            image = intake.read(png(pixels), f"bench-{pixels.shape[0]}.png")
            crop = CropBox.full(*pixels.shape[:2])
            cases[name] = intake.create_case(image, user="doc", organ="breast", crop=crop)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None, help="model folder (default: tiny fixture models)")
    parser.add_argument("--large", type=int, default=6000, help="side of the large image in pixels (6000 = 36 MP)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from tests.app_fixtures import PASSWORD, make_environment
    from tests.test_browser import ARGS, CHROMIUM, free_port, settle, start_app

    root = Path(tempfile.mkdtemp(prefix="usegan-bench-"))
    env = make_environment(root, n_samples=1)
    if args.models is not None:
        env["USEGAN_MODEL_DIR"] = str(args.models.resolve())
    t0 = time.perf_counter()
    cases = make_cases(env, args.large)
    print(f"intake of both images: {time.perf_counter() - t0:.1f} s (not part of the figures below)", file=sys.stderr)
    port = free_port()
    process = start_app(env, port)
    server: dict[str, dict[str, list[float]]] = {n: {"open_cold": [], "open_warm": [], "roi": []} for n in cases}
    browser_ms: dict[str, dict[str, list[float]]] = {n: {k: [] for k in server[n]} for n in cases}

    def record(name: str, action: str, page, started: float) -> None:
        browser_ms[name][action].append((time.perf_counter() - started) * 1000)
        settle(page)
        server[name][action].append(server_ms(page))

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(300_000)  # a loaded 2-core machine: the first run imports torch and the models
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_label("User name").fill("doc")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Worklist").wait_for()
            for name, case_id in cases.items():
                for i in range(args.repeats):
                    page.get_by_role("link", name="Worklist").click()
                    page.get_by_role("heading", name="Worklist").wait_for()
                    settle(page)
                    page.get_by_role("combobox", name="Open case by id").click()
                    page.get_by_role("option", name=case_id).click()
                    settle(page)
                    started = time.perf_counter()
                    page.locator(".st-key-worklist_open button").click()
                    page.get_by_role("heading", name=f"Case {case_id}").wait_for()
                    page.locator("canvas.upper-canvas").wait_for()
                    record(name, "open_cold" if i == 0 else "open_warm", page, started)

                    size = page.get_by_text(re.compile(r"Lesion size \(scored region\)"))
                    before = size.inner_text() if size.count() else ""
                    box = page.locator("canvas.upper-canvas").bounding_box()
                    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
                    page.mouse.down()
                    end = 0.55 + 0.04 * i  # a new size each time, so the page's answer is recognisable
                    page.mouse.move(box["x"] + box["width"] * end, box["y"] + box["height"] * 0.6, steps=6)
                    started = time.perf_counter()
                    page.mouse.up()
                    page.wait_for_function(
                        "before => [...document.querySelectorAll('p')].some(p => p.innerText.startsWith("
                        "'Lesion size (scored region)') && p.innerText !== before)",
                        arg=before,
                    )
                    record(name, "roi", page, started)
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
    summary = {
        name: {
            action: {
                "server_ms_median": statistics.median(values),
                "server_ms_max": max(values),
                "browser_ms_median": statistics.median(browser_ms[name][action]),
                "n": len(values),
            }
            for action, values in actions.items()
        }
        for name, actions in server.items()
    }
    small, large = list(summary)
    ratios = {
        action: summary[large][action]["browser_ms_median"] / summary[small][action]["browser_ms_median"]
        for action in summary[small]
    }
    if args.json:
        print(json.dumps({"images": summary, "large_over_small_browser": ratios}, indent=2))
        return 0
    for name, actions in summary.items():
        for action, row in actions.items():
            print(f"{name:7s} {action:10s} server median {row['server_ms_median']:7.0f} ms "
                  f"(max {row['server_ms_max']:.0f})   browser median {row['browser_ms_median']:7.0f} ms"
                  f"   n={row['n']}")  # fmt: skip
    print("large / small (browser medians): " + ", ".join(f"{a} {r:.2f}x" for a, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
