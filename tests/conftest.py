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
