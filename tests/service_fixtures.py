"""The service tests' environment: one store with the fixture models and samples, and a model that counts its
forward passes."""

from __future__ import annotations

import pytest

from tests.app_fixtures import make_environment


# --- service, intake, comparison, models (one store with the fixture models and samples) --------------------
@pytest.fixture
def env(tmp_path, monkeypatch):
    variables = make_environment(tmp_path, n_samples=1, with_users=False)
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    from usegan.store import open_store
    from usegan.store import users as store_users

    monkeypatch.setattr(store_users, "HASHER", store_users.PasswordHasher(time_cost=1, memory_cost=1024))
    store = open_store()
    store.add_user("doc", "password-1234-xyz", "clinician", created_by="test")
    yield store, tmp_path
    store.close()


class CountingModel:
    """Wraps an elastographer and counts forward passes."""

    def __init__(self, inner):
        self.inner, self.info, self.calls = inner, inner.info, 0

    def generate(self, image):
        self.calls += 1
        return self.inner.generate(image)
