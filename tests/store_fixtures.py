"""Helpers shared by the store tests: a fast password hasher and a store with two clinicians.

Test modules import the fixture functions (``fast_hasher_fixture``, ``store_fixture``); pytest finds them under
their ``name=`` (``fast_hasher``, ``store``)."""

from __future__ import annotations

import numpy as np
import pytest
from argon2 import PasswordHasher

import usegan.store.users as users_module
from usegan.settings import get_settings
from usegan.store import open_store

# Cheap argon2 parameters keep the tests fast; the production hasher's parameters are argon2-cffi's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct-horse-1"


@pytest.fixture(name="fast_hasher")
def fast_hasher_fixture(monkeypatch):
    monkeypatch.setattr(users_module, "HASHER", FAST_HASHER)
    monkeypatch.setattr(users_module, "_DUMMY_HASH", [])


@pytest.fixture(name="store")
def store_fixture(fast_hasher):
    s = open_store(get_settings())
    s.add_user("dr_a", PASSWORD, "clinician", created_by="test")
    s.add_user("dr_b", PASSWORD, "clinician", created_by="test")
    yield s
    s.close()


def bmode(seed: int = 0, shape=(24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def elasto(seed: int = 0, shape=(24, 32, 3)) -> np.ndarray:
    return np.random.default_rng(seed + 1000).integers(0, 256, shape, dtype=np.uint8)


def reading_basis(store, case_id: str, mode: str = "strain", *, seed: int = 0, by: str = "dr_a") -> dict:
    """A generation of ``mode`` and a proposal computed on it: the ``generation_id`` / ``prescore_id`` keywords a
    signable reading needs (``store.save_draft(..., **reading_basis(store, case_id))``)."""
    generation_id = store.add_generation(
        case_id, elasto(seed), model_version=f"test-{mode}-1", checkpoint_sha256=f"{mode[0]}" * 64, mode=mode,
        colour_scale={"vmin": 0, "vmax": 180 if mode == "swe" else 1}, ms=1.0, created_by=by,
    )  # fmt: skip
    system = "tsukuba" if mode == "strain" else "swe_breast"
    prescore_id = store.add_prescore(
        case_id, generation_id, {"system": system, "score": 2, "figures": {}}, {"lesion": LESION}, created_by=by
    )
    return {"generation_id": generation_id, "prescore_id": prescore_id}


LESION = {"x": 4, "y": 4, "w": 10, "h": 8}
