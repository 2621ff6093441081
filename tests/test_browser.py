"""End to end in a real browser (Playwright driving Debian's Chromium at /usr/bin/chromium) against
`streamlit run serve.py` on a free localhost port with a temporary data folder and tiny fixture models.

Flow: sign in; upload a PNG; both images shown; draw a rectangle ROI on the canvas with the mouse; the proposed
score and the distribution plot change; change the score; sign; download the PDF and read its text. Also: a
signed-out browser reaches only the sign-in page, a viewer cannot open the worklist. Screenshots of every page go
to ``$USEGAN_TEST_SHOTS`` (default: ``<tmp>/usegan-test-shots``) for a person to look at; the README's screenshots
are made by ``scripts/screenshots.py`` with the real models, never by the tests (the tree stays clean).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.app_fixtures import PASSWORD, make_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("USEGAN_TEST_SHOTS") or Path(tempfile.gettempdir()) / "usegan-test-shots")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip

if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed (make test installs it)", allow_module_level=True)
from playwright import sync_api  # noqa: E402  (a test dependency: a missing one is an error, not a skip)

# Every assertion waits for Streamlit's reruns; on a loaded 2-core machine a run can take several seconds, far past
# Playwright's 5 s default, and over a minute at load average 15-18 (two trainings and other suites beside).
WAIT_MS = 180_000  # generous, and bounded: a real hang still fails
sync_api.expect.set_options(timeout=WAIT_MS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(env: dict[str, str], port: int) -> subprocess.Popen:
    """``streamlit run serve.py`` in a subprocess; returns once ``/_stcore/health`` answers. The server's output goes
    to a log file beside the test's data folder (``process.log``), not to a pipe that nobody reads (which would
    block the server once 64 KiB of output filled it)."""
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]  # fmt: skip
    data = env.get("USEGAN_DATA_DIR")  # under the test's temporary folder, removed with it
    log = (Path(data).parent if data else Path(tempfile.mkdtemp(prefix="usegan-server-"))) / f"server-{port}.log"
    with log.open("wb") as out:  # the child keeps its own handle
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    process.log = log  # type: ignore[attr-defined]  (read by a test that wants the server's side of a failure)
    deadline = time.monotonic() + 240  # a cold `streamlit run` on a loaded 2-core machine can take minutes
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the app did not start: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-env")
    env = make_environment(root, n_samples=1)
    port = free_port()
    process = start_app(env, port)
    yield {"url": f"http://127.0.0.1:{port}", "root": root, "env": env, "log": process.log}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)  # generous: the test machine may be loaded
    yield page
    context.close()


def sign_in(page, url: str, user: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The first runs on a fresh server import torch and open the models: minutes on a loaded 2-core machine (a
    # sign-in took 175 s at load average 15).
    page.get_by_role("button", name="Sign out").wait_for(timeout=300_000)
    settle(page, timeout=300_000)


def settle(page, timeout: float = WAIT_MS) -> None:
    """Wait until Streamlit finished the current run: the app reports ``notRunning`` (not ``running`` or
    ``rerunRequested``) and no "Running..." status widget is shown, twice in a row a moment apart (a click's
    rerun request may still be on its way when first checked)."""
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    for _ in range(2):
        page.wait_for_timeout(300)
        idle.wait_for(state="attached", timeout=timeout)
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=timeout)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_signed_out_browser_reaches_only_the_login_page(page, server):
    page.goto(server["url"] + "/worklist")
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_role("heading", name="Worklist").count() == 0
    assert page.get_by_text("Sign in to review cases").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login.png"), full_page=True)  # the guard's HTML form: no Streamlit run


def test_viewer_cannot_open_the_clinical_worklist(page, server):
    sign_in(page, server["url"], "student")
    page.get_by_role("heading", name="Teaching lab").wait_for()
    assert page.get_by_role("link", name="Worklist").count() == 0
    page.goto(server["url"] + "/worklist")  # typing the URL: still signed in (session cookie), still no worklist
    page.get_by_role("button", name="Sign out").wait_for()
    settle(page)
    assert page.get_by_role("heading", name="Worklist").count() == 0


def test_upload_draw_roi_score_sign_and_download_the_pdf(page, server, tmp_path):
    bmode = np.asarray(Image.open(next((server["root"] / "samples").glob("*/bmode.png"))))
    upload = tmp_path / "scan.png"
    Image.fromarray(bmode).resize((192, 192)).save(upload)
    sign_in(page, server["url"], "doc")
    page.get_by_role("heading", name="Worklist").wait_for()
    page.get_by_role("link", name="New case").click()
    panel = page.get_by_role("tabpanel", name="Upload an image")  # the other tabs have uploaders too
    panel.locator('input[type="file"]').set_input_files(str(upload))
    panel.get_by_role("button", name="Create case and review").click()
    page.get_by_role("heading", name="Case C-").wait_for()
    settle(page)
    assert page.get_by_text("VIRTUAL STRAIN elastogram - model tiny-strain-test").first.is_visible()
    assert page.locator('[data-testid="stImage"] img').count() >= 1  # the virtual elastogram
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for()
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "-"
    assert "lesion ROI" not in page.locator(".js-plotly-plot").first.inner_text()

    box = canvas.bounding_box()  # draw the lesion ROI with the mouse
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.65, steps=8)
    page.mouse.up()
    page.locator('[data-testid="stMetricValue"]').get_by_text("5").wait_for()
    settle(page)
    assert "lesion ROI" in page.locator(".js-plotly-plot").first.inner_text()  # the plot now has the ROI
    shot(page, "review")

    page.get_by_role("radiogroup", name="Confirmed score").get_by_text("4", exact=True).click()
    sync_api.expect(page.get_by_text("Whole lesion hard", exact=True)).to_be_visible()  # the run saw score 4
    settle(page)
    page.get_by_role("button", name="Insert template for this score").click()
    settle(page)
    sync_api.expect(page.get_by_label("Conclusion")).to_have_value(re.compile("Tsukuba 4"))
    page.get_by_role("button", name="Sign", exact=True).click()
    page.get_by_text("Review signed").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="PDF report").click()
    pdf = tmp_path / "report.pdf"
    download_info.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    case_id = page.get_by_role("heading", name="Case C-").inner_text().split()[-1]
    assert case_id in text and "tiny-strain-test" in text and "Tsukuba 4" in text
    shot(page, "review_signed")

    page.get_by_role("link", name="Worklist").click()
    page.get_by_role("heading", name="Worklist").wait_for()
    page.get_by_text("1 matching case(s)").wait_for()  # the grid itself is drawn on a canvas
    page.locator('[data-testid="stDataFrame"]').wait_for()
    shot(page, "worklist")
    page.get_by_role("link", name="New case").click()
    page.get_by_role("tab", name="Bundled sample").click()
    shot(page, "new_case")
    page.get_by_role("link", name="Teaching lab").click()
    page.get_by_text("Truth").first.wait_for()
    shot(page, "teaching")


def test_admin_pages_audit_and_models(page, server):
    sign_in(page, server["url"], "admin")
    page.get_by_role("link", name="Research audit").click()
    page.get_by_role("heading", name="Research audit").wait_for()
    shot(page, "audit")
    page.get_by_role("link", name="Models").click()
    page.get_by_text("tiny-strain-test").first.wait_for()
    shot(page, "models")


def test_worklist_picker_offers_a_case_from_the_dicom_spool_without_a_reload(page, server):
    """A file dropped into the spool while the worklist is open is imported by the timed fragment (every 15 s) and
    can be picked in "Open case" at once: the picker is refreshed with the table, not only on a full rerun."""
    from tests.dicom_factory import make_us_dataset
    from usegan.dicomnet.derived import to_bytes
    from usegan.dicomnet.spool import spool_name, write_atomic
    from usegan.settings import get_settings

    sign_in(page, server["url"], "doc")
    page.get_by_role("heading", name="Worklist").wait_for()
    settle(page)
    before = int(re.search(r"(\d+) matching case", page.get_by_text("matching case(s)").inner_text()).group(1))
    scan = make_us_dataset(rows=96, columns=128)
    write_atomic(get_settings(environ=server["env"]).inbox_dir, spool_name(scan.SOPInstanceUID), to_bytes(scan))
    # No click, no reload: only the fragment's own timer can bring the new case in.
    page.get_by_text(f"{before + 1} matching case(s)").wait_for(timeout=90_000)
    settle(page)
    page.get_by_role("combobox", name="Open case").click()
    case_options = page.get_by_role("option").filter(has_text=re.compile(r"^C-\d{8}-"))
    sync_api.expect(case_options).to_have_count(before + 1)
    page.keyboard.press("Escape")
