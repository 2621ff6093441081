"""The served app (``streamlit run serve.py``) from outside: a plain HTTP client and a real browser.

* No clinical image or PDF without a live session: every ``/media`` URL a signed-in browser uses answers 403 to a
  request without the session cookie, and to the same cookie after sign-out.
* Sessions survive a reload and a second tab, end everywhere on sign-out, end after the idle timeout; a deep link
  ``/review?case=ID`` opens that case after sign-in.
* The sign-in form answers the same for an unknown name, a disabled account and a wrong password.
"""

from __future__ import annotations

import io
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np
import pytest

from tests.app_fixtures import PASSWORD, make_environment
from tests.test_browser import ARGS, CHROMIUM, WAIT_MS, free_port, settle, start_app

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
IDLE_S = 40  # the idle timeout of the test server (USEGAN_SESSION_IDLE_S)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served-env")
    env = make_environment(root, n_samples=1)
    env["USEGAN_SESSION_IDLE_S"] = str(IDLE_S)
    from usegan.store import Store

    with Store(Path(env["USEGAN_DATA_DIR"]) / "usegan.duckdb", Path(env["USEGAN_DATA_DIR"]) / "images") as store:
        store.add_user("gone", PASSWORD, "clinician", created_by="test")
        store.set_disabled("gone", changed_by="test")
        case_id = store.create_case(
            np.random.default_rng(0).integers(0, 255, (96, 96), dtype=np.uint8), organ="breast", created_by="doc",
            patient_id="![x](http://127.0.0.1:9/x.png) [c](http://127.0.0.1:9/) <b>b</b>",  # 64: the limit
        )  # fmt: skip
    port = free_port()
    process = start_app(env, port)
    yield {"url": f"http://127.0.0.1:{port}", "root": root, "env": env, "case_id": case_id}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, *, data: dict | None = None, jar=None, cookie: str | None = None):
    """``(status, headers, body)`` of one request, redirects not followed."""
    handlers = [NoRedirect()] + ([urllib.request.HTTPCookieProcessor(jar)] if jar is not None else [])
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None)
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with opener.open(request, timeout=60) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def form_sign_in(url: str, user: str, password: str):
    jar = CookieJar()
    status, _, body = fetch(f"{url}/_usegan/signin", jar=jar)
    csrf = re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()
    return fetch(f"{url}/_usegan/signin?next=%2F", data={"csrf": csrf, "username": user, "password": password},
                jar=jar), jar  # fmt: skip


def test_page_loads_without_a_session_go_to_the_sign_in_form_keeping_the_deep_link(served):
    status, headers, _ = fetch(served["url"] + "/review?case=abc")
    assert status == 303 and headers["Location"] == "/_usegan/signin?next=%2Freview%3Fcase%3Dabc"
    status, _, body = fetch(served["url"] + "/_usegan/signin?next=%2F%2Fevil.example")
    assert status == 200 and b'action="/_usegan/signin?next=%2F"' in body  # no open redirect
    status, _, _ = fetch(served["url"] + "/_stcore/agent/interact", data={"x": "1"})
    assert status == 404


def test_unknown_disabled_and_wrong_password_get_the_same_answer(served):
    answers = {}
    for user, password in (("nobody", PASSWORD), ("gone", PASSWORD), ("doc", "not-the-password-1")):
        (status, headers, body), _ = form_sign_in(served["url"], user, password)
        answers[user] = (status, re.search(rb'role="alert">([^<]*)<', body).group(1))
        assert "Set-Cookie" not in headers or "usegan_session" not in headers["Set-Cookie"]
    assert len(set(answers.values())) == 1, answers
    assert answers["doc"] == (401, b"Wrong user name or password.")
    (status, headers, _), _ = form_sign_in(served["url"], "doc", PASSWORD)
    assert status == 303
    cookie = headers["Set-Cookie"]
    assert "usegan_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def sign_in(page, url: str, user: str, path: str = "/") -> None:
    page.goto(url + path)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The first run on a fresh server imports torch and opens the models: minutes on a loaded 2-core machine.
    page.get_by_role("button", name="Sign out").wait_for(timeout=300_000)  # a cold first run under load


def test_deep_link_reload_second_tab_media_and_sign_out_everywhere(browser, served):
    url = served["url"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)  # every tab: a loaded machine takes seconds per Streamlit run
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    case_id = served["case_id"]
    page.goto(f"{url}/review?case={case_id}")  # a deep link, signed out
    page.get_by_label("User name").fill("doc")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Case {case_id}").wait_for(timeout=300_000)  # the first run: a cold start
    # A run stopped early for the canvas's first report (a loaded machine) can leave the app idle for a moment
    # before the images arrive: wait for them, not only for an idle app.
    page.locator('img[src*="/media/"]').first.wait_for(state="attached")
    settle(page)
    # The patient id is markdown and HTML: shown literally, and the browser fetched nothing it names.
    assert page.get_by_text("![x](http://127.0.0.1:9/x.png) [c](http://127.0.0.1:9/) <b>b</b>").count() == 1
    assert not [r for r in requests if "127.0.0.1:9/" in r]
    media = sorted({src for src in page.eval_on_selector_all("img", "els => els.map(e => e.src)") if "/media/" in src})
    assert media, "the review page shows its images from /media"
    session_cookie = next(c for c in context.cookies() if c["name"] == "usegan_session")
    assert session_cookie["httpOnly"]
    cookie = f"usegan_session={session_cookie['value']}"
    for src in media:
        assert fetch(src)[0] == 403, src  # no cookie: refused
        status, headers, _ = fetch(src, cookie=cookie)
        assert status == 200 and headers["Cache-Control"] == "no-store"

    page.reload()  # F5 keeps the session and the case
    page.get_by_role("heading", name=f"Case {case_id}").wait_for()
    second = context.new_page()  # a second tab too
    second.goto(f"{url}/review?case={case_id}")
    second.get_by_role("heading", name=f"Case {case_id}").wait_for()
    settle(second)

    second.get_by_role("button", name="Sign out").click()  # signs out every tab
    second.get_by_text("You are signed out").wait_for()
    page.get_by_role("link", name="Sign in").wait_for(timeout=WAIT_MS)  # the first tab notices by itself
    assert page.get_by_role("heading", name=f"Case {case_id}").count() == 0
    for src in media:
        assert fetch(src, cookie=cookie)[0] == 403, src  # the old cookie opens nothing after sign-out
    page.reload()
    page.get_by_label("User name").wait_for()
    context.close()


def test_idle_timeout_signs_out(browser, served):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(WAIT_MS)  # every tab: a loaded machine takes seconds per Streamlit run
    page = context.new_page()
    sign_in(page, served["url"], "student")
    page.get_by_role("heading", name="Teaching lab").wait_for()
    settle(page)
    page.wait_for_timeout((IDLE_S + 5) * 1000)  # no interaction
    page.get_by_role("link", name="Sign in").wait_for(timeout=WAIT_MS)
    assert page.get_by_role("heading", name="Teaching lab").count() == 0
    page.reload()
    page.get_by_label("User name").wait_for()  # the cookie is dead too
    context.close()


def test_operations_while_the_app_runs(served, tmp_path, monkeypatch, capsys):
    """Add a user, unlock an account, check, export and back up through the running app; restore the backup into a
    fresh directory. The app holds the database the whole time (the CLI hands the work to it)."""
    from usegan.cli import main
    from usegan.store import Store, StoreBusyError

    data = Path(served["env"]["USEGAN_DATA_DIR"])
    for key, value in served["env"].items():
        monkeypatch.setenv(key, value)
    with pytest.raises(StoreBusyError):
        Store(data / "usegan.duckdb", data / "images").close()  # the app does hold it
    monkeypatch.setattr("sys.stdin", io.StringIO("Night-shift-Pa55phrase\n"))
    assert main(["user", "add", "nurse", "--role", "viewer", "--password-stdin"]) == 0
    assert "added nurse (viewer)" in capsys.readouterr().out
    (status, _, _), _ = form_sign_in(served["url"], "nurse", "Night-shift-Pa55phrase")
    assert status == 303  # the new user signs in at once

    for _ in range(5):  # someone guesses "res"'s password: the name backs off
        form_sign_in(served["url"], "res", "a-wrong-guess-123")
    (status, _, _), _ = form_sign_in(served["url"], "res", PASSWORD)
    assert status == 429
    assert main(["user", "list"]) == 0
    assert re.search(r"res\s+researcher\s+backing off until", capsys.readouterr().out)
    assert main(["user", "unlock", "res"]) == 0
    (status, _, _), _ = form_sign_in(served["url"], "res", PASSWORD)
    assert status == 303

    assert main(["store", "check"]) == 0
    assert "all files present and intact" in capsys.readouterr().out
    assert main(["export", "--out", str(tmp_path / "export")]) == 0
    assert (tmp_path / "export" / "cases.csv").is_file()
    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert "backed up 1 cases" in capsys.readouterr().out

    monkeypatch.setenv("USEGAN_DATA_DIR", str(tmp_path / "fresh"))
    assert main(["restore", str(tmp_path / "bk")]) == 0
    with Store(tmp_path / "fresh" / "usegan.duckdb", tmp_path / "fresh" / "images") as restored:
        assert "nurse" in [u.username for u in restored.list_users()]
        assert restored.counts()["total"] == 1 and not restored.check()
        audit = restored.audit_log(limit=50)
    assert any(actor.startswith("cli:") for actor in audit[audit["action"] == "user.add"]["actor"])
