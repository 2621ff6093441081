"""usegan.services.model_catalog: the Models page's list (registry before bundled) and its summaries."""

# ruff: noqa: F811
from __future__ import annotations

from tests.service_fixtures import env  # noqa: F401  (fixture)
from usegan import active_model
from usegan.services import model_catalog as models


def test_models_prefer_the_registry_active_version(env):
    store, root = env
    listed = models.list_models(store, root / "models")
    assert {(e.mode, e.origin, e.in_use) for e in listed} == {("strain", "bundled", True), ("swe", "bundled", True)}
    from tests.app_fixtures import tiny_checkpoint

    path = tiny_checkpoint(root / "elsewhere" / "s2.pt", "strain", "strain-v2")
    store.registry.register("strain-v2", "strain", path, created_by="doc")
    store.registry.set_active("strain-v2", by="doc")
    assert active_model.resolve("strain", store, root / "models") == path
    assert active_model.available_modes(store, root / "empty") == ["strain"]


def test_models_page_summaries_of_pairs_and_validation():
    metrics = {"validation_pairs": {"n": 4, "l1": 0.0512, "ssim_box": 0.81},
               "base_on_validation_pairs": {"n": 4, "l1": 0.0733}, "compared_with": "v1"}  # fmt: skip
    entry = models.ModelEntry("strain", "v2", "/m.pt", "registry", "candidate", False, metrics=metrics)
    assert models.validation_summary(entry) == "Validation pairs (4): L1 0.0512 vs base 0.0733 (v1) · SSIM 0.810"
    assert models.validation_summary(models.ModelEntry("swe", "b", "/b.pt", "bundled", "bundled", True)) is None
    counts = {"strain": {"train": 3, "validation": 1}, "swe": {"train": 0, "validation": 0}}
    assert models.pairs_summary(counts) == "strain: 3 train / 1 validation, swe: 0 train / 0 validation"
