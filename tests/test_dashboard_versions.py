"""Research audit: model versions compared on the same cases (usegan.services.audit.version_*)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.store_fixtures import bmode, fast_hasher_fixture, store_fixture  # noqa: F401  (fixtures)
from usegan.colormaps import colormap_for
from usegan.services import audit

SCALE = {"vmin": 0, "vmax": 1, "unit": "relative strain"}
HARD, SOFT = 30, 180  # colour-map indices: a uniform image of these scores Tsukuba 5 and 1 on any lesion ROI
LESION = {"lesion": {"type": "rect", "x": 8, "y": 6, "w": 10, "h": 8}}


def uniform(index: int) -> np.ndarray:
    return np.broadcast_to(colormap_for("strain").lut[index].astype(np.uint8), (24, 32, 3)).copy()


def generate(store, case_id: str, version: str, index: int) -> str:
    return store.add_generation(
        case_id, uniform(index), model_version=version, checkpoint_sha256="0" * 64, mode="strain",
        colour_scale=SCALE, ms=1.0, created_by="dr_a",
    )  # fmt: skip


def sign(store, case_id: str, score: int, generation_id: str, prescore_id: str) -> None:
    """A reading made on ``generation_id`` with the proposal ``prescore_id`` shown (signing needs both)."""
    review = store.save_draft(
        case_id, "dr_a", LESION, score, "ok", expected_version=0, generation_id=generation_id, prescore_id=prescore_id
    )
    store.sign(case_id, "dr_a", expected_version=review.row_version)


@pytest.fixture
def cases(store):
    ids = {name: store.create_case(bmode(i), organ="breast", created_by="dr_a") for i, name in enumerate("ABCD")}
    g = generate(store, ids["A"], "v1", HARD)
    p = store.add_prescore(ids["A"], g, {"score": 4, "algorithm_version": "t"}, LESION, created_by="dr_a")
    generate(store, ids["A"], "v2", SOFT)  # no stored pre-score: re-scored with the review's ROI -> 1
    sign(store, ids["A"], 4, g, p)  # read on v1
    g = generate(store, ids["B"], "v1", HARD)
    p = store.add_prescore(ids["B"], g, {"score": 5, "algorithm_version": "t"}, LESION, created_by="dr_a")
    generate(store, ids["B"], "v2", HARD)
    sign(store, ids["B"], 5, g, p)
    generate(store, ids["C"], "v1", HARD)  # one version only: not a comparison
    generate(store, ids["D"], "v1", HARD)
    generate(store, ids["D"], "v2", SOFT)  # no review, no ROI: nothing to score
    return ids


def test_version_comparison_lists_each_version_of_cases_with_several(store, cases):
    long = audit.version_comparison(store)
    assert set(long["case_id"]) == {cases["A"], cases["B"], cases["D"]}
    got = {(r.case_id, r.model_version): (r.proposed_score, r.score_source) for r in long.itertuples()}
    assert got[(cases["A"], "v1")] == (4, "stored")  # what the reviewer saw wins over a re-score (5)
    assert got[(cases["A"], "v2")] == (1, "rescored")
    assert got[(cases["B"], "v1")] == (5, "stored") and got[(cases["B"], "v2")] == (5, "rescored")
    assert got[(cases["D"], "v2")][1] == "none" and pd.isna(got[(cases["D"], "v2")][0])
    unscored = audit.version_comparison(store, rescore=False)
    assert (unscored["score_source"] == "rescored").sum() == 0
    assert len(audit.version_comparison(store, max_cases=1)["case_id"].unique()) == 1
    with pytest.raises(ValueError, match="max_cases"):
        audit.version_comparison(store, max_cases=0)


def test_version_table_puts_versions_side_by_side(store, cases):
    wide = audit.version_table(audit.version_comparison(store)).set_index("case_id")
    assert list(wide.columns[-3:]) == ["v1", "v2", "spread"]
    assert (wide.loc[cases["A"], "v1"], wide.loc[cases["A"], "v2"], wide.loc[cases["A"], "spread"]) == (4, 1, 3)
    assert wide.loc[cases["B"], "spread"] == 0 and wide.loc[cases["A"], "confirmed_score"] == 4
    assert audit.version_table(audit.version_comparison(store).iloc[0:0]).empty


def test_version_agreement_uses_the_common_reviewed_cases(store, cases):
    table = audit.version_agreement(audit.version_comparison(store)).set_index("model_version")
    # A (confirmed 4: v1 said 4, v2 said 1) and B (confirmed 5: both said 5); D is not reviewed.
    assert table.loc["v1", "cases"] == 2 and table.loc["v1", "exact_agreement"] == 1.0
    assert table.loc["v2", "cases"] == 2 and table.loc["v2", "exact_agreement"] == 0.5
    assert table.loc["v2", "within_one"] == 0.5
    assert table.loc["v1", "kappa_qw"] == pytest.approx(1.0) and table.loc["v2", "kappa_qw"] < 1.0
