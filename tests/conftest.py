"""Shared fixtures: every test runs against a temporary data directory, never the repository's ``data/``."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    data_dir = tmp_path_factory.mktemp("usegan-data")
    monkeypatch.setenv("USEGAN_DATA_DIR", str(data_dir))
    return data_dir
