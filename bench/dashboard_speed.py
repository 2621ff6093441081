"""Browser-driven timing of the review page: open a case, and re-score after drawing an ROI.

    .venv/bin/python bench/dashboard_speed.py [--repeats 5] [--models DIR] [--json]

Starts ``streamlit run app.py`` on a free port with a temporary data folder (fixture users and samples from
:mod:`tests.app_fixtures`; models from ``--models``, default the tiny fixture models), drives Debian's
Chromium with Playwright, and reports for each action:

* ``server_ms``: the review page's own run time, printed by the page ("Server time for this view: N ms");
* ``browser_ms``: from the click / mouse-up until the result is on screen (includes websocket and rendering).

"open" = open a sample as a new case (first generation included: cold) and re-open it (warm, generation cached);
"roi" = draw a rectangle with the mouse until the distribution plot shows the ROI (the proposal is computed in
the same run).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # test_browser imports tests.app_fixtures


def server_ms(page) -> float:
    text = page.get_by_text(re.compile(r"Server time for this view: \d+ ms")).last.inner_text()
    return float(re.search(r"(\d+) ms", text).group(1))


def settle(page) -> None:
    page.wait_for_timeout(150)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=60_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None, help="model folder (default: tiny fixture models)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright
    from test_browser import ARGS, CHROMIUM, free_port, start_app

    from tests.app_fixtures import PASSWORD, make_environment

    root = Path(tempfile.mkdtemp(prefix="usegan-bench-"))
    env = make_environment(root, n_samples=1)
    if args.models is not None:
        env["USEGAN_MODEL_DIR"] = str(args.models.resolve())
    port = free_port()
    process = start_app(env, port)
    results: dict[str, list[float]] = {k: [] for k in ("open_cold", "open_warm", "roi")}
    browser_ms: dict[str, list[float]] = {k: [] for k in results}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_label("User name").fill("doc")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Worklist").wait_for()
            for _ in range(args.repeats):
                page.get_by_role("link", name="New case").click()
                page.get_by_role("tab", name="Bundled sample").click()
                t0 = time.perf_counter()
                page.get_by_role("button", name="Open as a new case").click()
                page.locator("canvas.upper-canvas").wait_for()
                settle(page)
                browser_ms["open_cold"].append((time.perf_counter() - t0) * 1000)
                results["open_cold"].append(server_ms(page))
                heading = page.get_by_role("heading", name="Case C-").inner_text()

                page.get_by_role("link", name="Worklist").click()
                page.get_by_role("heading", name="Worklist").wait_for()
                t0 = time.perf_counter()
                page.get_by_role("link", name="Review").click()
                page.get_by_role("heading", name=heading).wait_for()
                page.locator("canvas.upper-canvas").wait_for()
                settle(page)
                browser_ms["open_warm"].append((time.perf_counter() - t0) * 1000)
                results["open_warm"].append(server_ms(page))

                box = page.locator("canvas.upper-canvas").bounding_box()
                page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * 0.65, box["y"] + box["height"] * 0.6, steps=6)
                t0 = time.perf_counter()
                page.mouse.up()
                page.locator(".js-plotly-plot").filter(has_text="lesion ROI").first.wait_for()  # re-scored
                settle(page)
                browser_ms["roi"].append((time.perf_counter() - t0) * 1000)
                results["roi"].append(server_ms(page))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    summary = {
        action: {
            "server_ms_median": statistics.median(values),
            "server_ms_max": max(values),
            "browser_ms_median": statistics.median(browser_ms[action]),
            "n": len(values),
        }
        for action, values in results.items()
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for action, row in summary.items():
            print(f"{action:10s} server median {row['server_ms_median']:7.0f} ms (max {row['server_ms_max']:.0f})"
                  f"   browser median {row['browser_ms_median']:7.0f} ms   n={row['n']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
