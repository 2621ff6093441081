"""``scripts/train_bundled_models.py``'s GPU stages: the stage-8 (v6 candidate) runs start from the bundled
checkpoints with the recipe they name, and a GPU stage refuses unknown runs and missing start checkpoints before it
simulates or trains anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "train_bundled_models.py"
spec = importlib.util.spec_from_file_location("train_bundled_models", SCRIPT)
tbm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tbm)


def test_stage8_arms_differ_from_their_control_by_the_depth_gain_alone():
    strain, control, swe = (tbm.V6_RUNS[n][0] for n in ("strain-v6", "strain-v6-control", "swe-v6"))
    assert strain == [*control, "--depth-gain", "0.3"] and "--depth-gain" not in control
    assert control == tbm.V4_RUNS["strain-v4"][0]  # the recipe of the bundled strain model's stage
    assert swe == [*tbm.V4_RUNS["swe-v4"][0], "--depth-gain", "0.3"]


def test_stage8_starts_from_the_bundled_checkpoints(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # model_card.py sits beside the script
    from model_card import VERSIONS

    for name, (flags, start) in tbm.V6_RUNS.items():
        mode = flags[flags.index("--mode") + 1]
        assert start == f"{mode}-{VERSIONS[mode]}", name  # strain-v4 / swe-v5: what data/models ships
        assert (ROOT / "data" / "models" / f"usegan-{start}.pt").is_file()


@pytest.mark.parametrize("stage", list(tbm.GPU_STAGES))
def test_a_gpu_stage_refuses_unknown_runs_and_missing_inits_before_any_work(stage, tmp_path, monkeypatch):
    monkeypatch.setattr(tbm, "simulate", lambda *a, **k: pytest.fail("simulated before the runs were checked"))
    with pytest.raises(SystemExit, match="unknown .* run\\(s\\) nope"):
        tbm.gpu_stage(stage, tmp_path, ["nope"], 10, 0.0, 4, 1)
    table = tbm.GPU_STAGES[stage][0]
    needs_init = next(n for n, (_, start) in table.items() if start)
    with pytest.raises(SystemExit, match=f"{needs_init} start"):
        tbm.gpu_stage(stage, tmp_path, [needs_init], 10, 0.0, 4, 1, init_dir=tmp_path)
