"""``scripts/train_bundled_models.py``: the stage-8 GPU candidates start from the checkpoints bundled when they were
tried with the recipe they name; a GPU stage refuses unknown runs and missing start checkpoints before it simulates or
trains anything; stage 9 (the bundled strain v6) is the stage-7 recipe from strain-v4 plus the augmentations it names,
averaged with strain-v4, and takes its real scans from ``--real`` only."""

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
    strain, control, swe = (tbm.GPU_P3_RUNS[n][0] for n in ("strain-gpu-dg", "strain-gpu-control", "swe-gpu-dg"))
    assert strain == [*control, "--depth-gain", "0.3"] and "--depth-gain" not in control
    assert control == tbm.V4_RUNS["strain-v4"][0]  # the recipe of the bundled strain model's stage
    assert swe == [*tbm.V4_RUNS["swe-v4"][0], "--depth-gain", "0.3"]


def test_stage8_starts_from_runs_make_model_trains():
    for name, (flags, start) in tbm.GPU_P3_RUNS.items():
        mode = flags[flags.index("--mode") + 1]
        assert start in {f"{mode}-v4", f"{mode}-v5"} & {*tbm.V4_RUNS, *tbm.V5_RUNS}, name


def test_the_bundled_versions_are_what_make_model_ends_with(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # model_card.py sits beside the script
    from model_card import LINEAGE, VERSIONS

    assert VERSIONS == {"strain": "v6", "swe": "v5"}
    for mode, version in VERSIONS.items():
        assert (ROOT / "data" / "models" / f"usegan-{mode}-{version}.pt").is_file()
        assert sorted((ROOT / "data" / "models").glob(f"usegan-{mode}-v*.pt")) == [
            ROOT / "data" / "models" / f"usegan-{mode}-{version}.pt"
        ]
    a, b, alpha = tbm.AVERAGES["strain-v6"]
    assert (a, b, alpha) == ("strain-v4", "strain-sst2", 0.5)
    assert LINEAGE["strain"][-2:] == [a, b]  # the card walks the trained stages; the average is the last step
    assert LINEAGE["swe"][-1] == "swe-v5" and "swe-v5" in tbm.V5_RUNS


def test_stage9_is_the_stage7_recipe_from_strain_v4_plus_its_augmentations():
    flags, start, steps = tbm.V6_RUNS["strain-sst2"]
    assert start == "strain-v4" and steps == 1461
    assert flags == [*tbm.V4_RUNS["strain-v4"][0], "--depth-gain", "0.3", "--style-beta", "0.03"]
    assert "--style-dir" not in flags  # the real scans' folder comes from --real, never from the repository
    assert tbm.SUPERFICIAL_FLAGS == ["--shallow", "0.4", "--superficial", "0.5"]


def test_style_scans_link_the_first_67_by_name_and_refuse_too_few(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    for k in range(70):
        (real / f"normal_{k:03d}.png").write_bytes(b"")
    (real / "README.md").write_text("not a scan")
    folder = tbm.style_scans(tmp_path / "work", real)
    assert sorted(p.name for p in folder.iterdir()) == [f"normal_{k:03d}.png" for k in range(67)]
    assert all(p.is_symlink() and p.resolve().parent == real.resolve() for p in folder.iterdir())
    assert tbm.style_scans(tmp_path / "work", real) == folder  # a resumed make model finds them linked
    few = tmp_path / "few"
    few.mkdir()
    (few / "normal_000.png").write_bytes(b"")
    with pytest.raises(SystemExit, match="needs 67 real lesion-free scans .* found 1"):
        tbm.style_scans(tmp_path / "work2", few)


def test_make_model_refuses_to_start_without_real_scans(tmp_path, monkeypatch):
    monkeypatch.setattr(tbm, "simulate", lambda *a, **k: pytest.fail("simulated before the real scans were checked"))
    with pytest.raises(SystemExit, match="stage 9 .* needs the real lesion-free scans: .*nowhere"):
        tbm.main(["--work", str(tmp_path / "work"), "--real", str(tmp_path / "nowhere")])


@pytest.mark.parametrize("stage", list(tbm.GPU_STAGES))
def test_a_gpu_stage_refuses_unknown_runs_and_missing_inits_before_any_work(stage, tmp_path, monkeypatch):
    monkeypatch.setattr(tbm, "simulate", lambda *a, **k: pytest.fail("simulated before the runs were checked"))
    with pytest.raises(SystemExit, match="unknown .* run\\(s\\) nope"):
        tbm.gpu_stage(stage, tmp_path, ["nope"], 10, 0.0, 4, 1)
    table = tbm.GPU_STAGES[stage][0]
    needs_init = next(n for n, (_, start) in table.items() if start)
    with pytest.raises(SystemExit, match=f"{needs_init} start"):
        tbm.gpu_stage(stage, tmp_path, [needs_init], 10, 0.0, 4, 1, init_dir=tmp_path)


def test_style_stage_trains_with_the_linked_scans_and_writes_the_average(tmp_path, monkeypatch):
    import torch

    from tests.app_fixtures import tiny_checkpoint
    from usegan.checkpoint import load_generator

    work, real = tmp_path / "work", tmp_path / "real"
    real.mkdir()
    for k in range(tbm.STYLE_SCANS):
        (real / f"normal_{k:03d}.png").write_bytes(b"")
    simulated, started = [], []
    monkeypatch.setattr(tbm, "simulate", lambda folder, *a, **k: simulated.append((folder, k)) or folder)

    def fake_start(name, out, train, steps, init, extra_flags=(), **_):  # "trains": writes a checkpoint of its own
        started.append((name, train, steps, init, list(extra_flags)))
        out.mkdir(parents=True, exist_ok=True)
        tiny_checkpoint(out / "last.pt", "strain", f"usegan-{name}", lut_index=200)

    monkeypatch.setattr(tbm, "start_run", fake_start)
    (work / "strain-v4").mkdir(parents=True)
    tiny_checkpoint(work / "strain-v4" / "last.pt", "strain", "v4", lut_index=40)
    runs = tbm.style_stage(work, {"strain-sst2": work / "strain-v4" / "last.pt"}, real, workers=1)

    assert simulated == [(work / "phantom3-sup-train", {"workers": 1, "extra": tbm.SUPERFICIAL_FLAGS})]
    [(name, train, steps, init, flags)] = started
    assert (name, train, steps, init) == (
        "strain-sst2",
        work / "phantom3-sup-train",
        1461,
        work / "strain-v4" / "last.pt",
    )
    assert flags == ["--style-dir", work / "real-style"] and len(list((work / "real-style").iterdir())) == 67
    assert set(runs) == {"strain-sst2", "strain-v6"}
    average, info = load_generator(work / "strain-v6" / "last.pt")
    a, _ = load_generator(work / "strain-v4" / "last.pt")
    b, _ = load_generator(work / "strain-sst2" / "last.pt")
    bias = lambda g: g.head[1].bias.float()  # noqa: E731 - the two tiny models differ in this bias only
    assert info.version == "usegan-strain-v6"
    assert info.training["weight_ensemble"] == {"a": "v4", "b": "usegan-strain-sst2", "alpha": 0.5}
    torch.testing.assert_close(bias(average), 0.5 * bias(a) + 0.5 * bias(b), atol=2e-3, rtol=0)
