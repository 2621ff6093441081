"""Shared fixtures: every test runs against a temporary data directory, never the repository's ``data/``."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    data_dir = tmp_path_factory.mktemp("usegan-data")
    monkeypatch.setenv("USEGAN_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture(autouse=True)
def stop_background_work():
    """A test that opened the app starts its background worker: stop it after the test (the process's Store,
    ``usegan.web.process.get_store``, stays open for the module's other tests and is closed at exit)."""
    yield
    import sys

    if "usegan.background" in sys.modules:
        sys.modules["usegan.background"].stop_workers()


def pytest_sessionfinish(session, exitstatus):
    """AppTest runs leave the app's cached Store (a DuckDB connection) in ``st.cache_resource``; drop it and
    collect, so connections close now instead of being reported as leaked when the interpreter exits."""
    import gc
    import sys

    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()
    gc.collect()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test reports what each of its open pages showed and the end of the app server's log, so a
    failure seen once (on a loaded machine, in CI) can be read afterwards instead of only re-run."""
    report = yield
    if report.when != "call" or not report.failed:
        return report
    browser, server = item.funcargs.get("browser"), item.funcargs.get("server")
    for n, page in enumerate(page for context in getattr(browser, "contexts", []) for page in context.pages):
        try:
            text = page.locator("body").inner_text(timeout=5_000)
        except Exception as exc:  # a closed or hung page: say so, never hide the test's own failure
            text = f"(could not read the page: {type(exc).__name__})"
        report.sections.append((f"page {n + 1} {page.url}", text[-4000:]))
    log = server.get("log") if isinstance(server, dict) else None
    if log is not None and log.is_file():
        report.sections.append(("app server log (end)", log.read_text(errors="replace")[-4000:]))
    return report
