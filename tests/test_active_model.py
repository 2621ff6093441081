"""Which model is in use: one answer (:func:`usegan.active_model.resolve`) for the CLI and the app alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.optimize_fixtures import tiny_checkpoint
from tests.store_fixtures import fast_hasher_fixture  # noqa: F401  (fixture)
from usegan.active_model import resolve
from usegan.cli import main
from usegan.settings import get_settings
from usegan.store import open_store


def _generated_version(tmp_path, capsys, image) -> str:
    capsys.readouterr()
    assert main(["generate", str(image), "--out", str(tmp_path / "out"), "--json", "--mode", "strain"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["model_version"]


def test_generate_uses_the_promoted_model_then_the_rolled_back_one(tmp_path, monkeypatch, capsys, fast_hasher):
    model_dir = tmp_path / "models"
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(model_dir))
    bundled = tiny_checkpoint(model_dir / "usegan-strain-v1.pt", "bundled-v1")
    image = tmp_path / "bmode.png"
    Image.fromarray(np.full((40, 48), 120, dtype=np.uint8)).save(image)

    # no database yet: the bundled model
    assert _generated_version(tmp_path, capsys, image) == "bundled-v1"

    tuned = tiny_checkpoint(tmp_path / "tuned.pt", "tuned-1", seed=4)
    with open_store(get_settings()) as store:
        store.registry.register("bundled-v1", "strain", bundled, created_by="admin")
        store.registry.set_active("bundled-v1", by="admin")
        store.registry.register("tuned-1", "strain", tuned, created_by="admin")
    assert _generated_version(tmp_path, capsys, image) == "bundled-v1"  # a candidate is not in use

    assert main(["models", "promote", "tuned-1", "--force", "--reason", "test", "--by", "admin"]) == 0
    assert _generated_version(tmp_path, capsys, image) == "tuned-1"
    with open_store(get_settings(), read_only=True) as store:
        assert resolve("strain", store) == tuned  # what the app's pages use

    assert main(["models", "rollback", "--mode", "strain", "--reason", "test", "--by", "admin"]) == 0
    assert _generated_version(tmp_path, capsys, image) == "bundled-v1"


def test_generate_names_the_missing_model_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(tmp_path / "empty"))
    image = tmp_path / "bmode.png"
    Image.fromarray(np.full((40, 48), 120, dtype=np.uint8)).save(image)
    assert main(["generate", str(image), "--out", str(tmp_path / "out"), "--mode", "swe"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no swe checkpoint in" in err[0]


@pytest.mark.parametrize("mode", ["strain", "swe"])
def test_resolve_without_a_store_is_the_bundled_model(tmp_path, mode):
    with pytest.raises(LookupError, match=f"no {mode} checkpoint in"):
        resolve(mode, None, tmp_path)
