"""The model's per-pixel uncertainty kept with a generation: stored as a 16-bit PNG and read back to within half a
quantisation step, referenced like every other image (store check, backups), and added by an additive migration
that keeps every generation stored before it."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from tests.store_fixtures import bmode, elasto, fast_hasher_fixture, store_fixture  # noqa: F401
from usegan.store import Store
from usegan.store.migrations import migrate
from usegan.store.schema import SCHEMA_VERSION
from usegan.store.uncertainty import decode_uncertainty, encode_uncertainty

SCALE = {"vmin": 0, "vmax": 180, "unit": "kPa"}


def _generation(store, uncertainty=None, shape=(24, 32)):
    case_id = store.create_case(bmode(1, shape), organ="breast", source="upload", created_by="dr_a")
    generation_id = store.add_generation(
        case_id, elasto(1, (*shape, 3)), model_version="m-1", checkpoint_sha256="ab" * 32, mode="swe",
        colour_scale=SCALE, ms=2.0, created_by="dr_a", uncertainty=uncertainty,
    )  # fmt: skip
    return case_id, generation_id


def test_uncertainty_is_stored_with_the_generation_and_read_back(store):
    sd = np.random.default_rng(3).uniform(0.0, 25.0, (24, 32)).astype(np.float32)
    sd[0, 0] = 0.0
    case_id, generation_id = _generation(store, sd)
    for generation in (store.get_generation(generation_id), store.latest_generation(case_id, "swe")):
        assert generation.has_uncertainty and generation.uncertainty_step == pytest.approx(sd.max() / 65535)
        back = generation.uncertainty()
        assert back.shape == sd.shape and back.dtype == np.float32
        assert np.abs(back - sd).max() <= generation.uncertainty_step / 2 + 1e-6
        assert back[0, 0] == 0.0
    assert generation.uncertainty_sha in store.referenced_images()
    assert store.check() == []


def test_a_generation_without_uncertainty_has_none(store):
    _, generation_id = _generation(store)
    generation = store.get_generation(generation_id)
    assert not generation.has_uncertainty and generation.uncertainty() is None


@pytest.mark.parametrize(
    ("sd", "message"),
    [
        (np.ones((10, 10), np.float32), "same size"),
        (np.full((24, 32), -1.0, np.float32), "negative or not finite"),
        (np.full((24, 32), np.nan, np.float32), "negative or not finite"),
    ],
)
def test_a_bad_uncertainty_map_is_refused_and_nothing_is_stored(store, sd, message):
    case_id = store.create_case(bmode(2), organ="breast", source="upload", created_by="dr_a")
    with pytest.raises(ValueError, match=message):
        store.add_generation(
            case_id, elasto(2), model_version="m-1", checkpoint_sha256="ab" * 32, mode="swe", colour_scale=SCALE,
            ms=1.0, created_by="dr_a", uncertainty=sd,
        )  # fmt: skip
    assert store.latest_generation(case_id) is None


def test_an_all_zero_map_round_trips():
    data, step = encode_uncertainty(np.zeros((5, 7), np.float32))
    assert step == 1.0 and not decode_uncertainty(data, step).any()


def test_migration_to_10_keeps_every_generation_and_gives_old_ones_no_map(tmp_path):
    path = tmp_path / "v9.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, target=9)[-1] == 9
    now = dt.datetime(2025, 6, 7, 8, 9)
    con.execute(
        "INSERT INTO cases (case_id, organ, source, created_at, created_by, bmode_sha, height, width) "
        "VALUES ('C-1', 'breast', 'upload', ?, 'x', 'ab', 8, 8)",
        [now],
    )
    before = []
    for i, mode in enumerate(("strain", "swe")):
        row = (f"G-{i}", "C-1", mode, f"v{i}", "s" * 64, '{"vmin": 0, "vmax": 1}', f"{i}" * 64, 1.5 + i, now, "x")
        con.execute(
            "INSERT INTO generations (generation_id, case_id, mode, model_version, checkpoint_sha256, colour_scale, "
            "elasto_sha, ms, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(row),
        )
        before.append(row)
    con.close()
    with Store(path, tmp_path / "images") as s:
        assert s.schema_version == SCHEMA_VERSION >= 10
        for row in before:
            g = s.get_generation(row[0])
            assert (g.generation_id, g.case_id, g.mode, g.model_version, g.checkpoint_sha256) == row[:5]
            assert (g.colour_scale, g.elasto_sha, g.ms, g.created_at, g.created_by) == (
                {"vmin": 0, "vmax": 1}, row[6], row[7], now, "x"
            )  # fmt: skip
            assert (g.uncertainty_sha, g.uncertainty_step, g.uncertainty()) == (None, None, None)
        assert s.query("SELECT count(*) AS n FROM generations")["n"].iloc[0] == 2


def test_generating_for_a_case_stores_the_models_uncertainty_in_the_images_geometry(store, tmp_path):
    from tests.app_fixtures import tiny_checkpoint
    from usegan.inference import VirtualElastographer
    from usegan.services.service import GenerationCache, generate_for_case

    model = VirtualElastographer.from_checkpoint(tiny_checkpoint(tmp_path / "m.pt", "strain", "tiny-u", lut_index=30))
    case_id = store.create_case(bmode(4, (40, 56)), organ="breast", source="upload", created_by="dr_a")
    generation = generate_for_case(store, case_id, model, "dr_a", GenerationCache())
    expected = model.generate(store.get_case(case_id).bmode()).uncertainty
    stored = generation.uncertainty()
    assert stored.shape == (40, 56) and stored.max() > 0
    assert np.abs(stored - expected).max() <= generation.uncertainty_step / 2 + 1e-6
