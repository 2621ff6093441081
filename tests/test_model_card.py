"""``scripts/model_card.py`` on a miniature make-model work folder: the card of an average of two stages (the
bundled strain v6) names the average and its command, the style stage's flags and data, and says that real scans
served only as unlabelled appearance; a card without such a stage says nothing of the kind."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.app_fixtures import tiny_checkpoint
from usegan.training.config import TrainConfig
from usegan.training.ensemble import interpolate

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture
def model_card(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    module = importlib.import_module("model_card")
    speed = {"size": 256, "threads": 2, "fp32_ms": 1.0, "served_ms": 1.0, "served_precision": "fp32", "gflops": 0.1,
             "matmul_fp32_gflops_per_s": 1.0}  # fmt: skip
    monkeypatch.setattr(module, "inference_speed", lambda path: speed)  # no benchmark in a test
    yield module
    sys.modules.pop("model_card", None)


def _stage(work: Path, name: str, mode: str, **fields) -> None:
    folder = work / name
    folder.mkdir(parents=True)
    config = {**dataclasses.asdict(TrainConfig()), "mode": mode, "version": f"usegan-{name}", "steps": 20, **fields}
    (folder / "config.json").write_text(json.dumps(config))
    events = [{"event": "train", "step": 20, "elapsed_s": 60.0, "loss_g": 1.0},
              {"event": "done", "steps": 20, "images_per_s": 3.0, "wall_time_s": 60.0}]  # fmt: skip
    (folder / "log.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    tiny_checkpoint(folder / "last.pt", mode, f"usegan-{name}")


def _work(tmp_path: Path, model_card) -> Path:
    work = tmp_path / "bundled"
    style = "/somewhere/private/real-style"  # where make model linked the real scans: never printed
    for name in model_card.LINEAGE["strain"]:
        fields = {"style_dir": style, "style_beta": 0.03, "depth_gain": 0.3} if name == "strain-sst2" else {}
        _stage(work, name, "strain", **fields)
    for name in model_card.LINEAGE["swe"]:
        if not (work / name).exists():
            _stage(work, name, "swe")
    (work / "strain-v6").mkdir()
    interpolate(work / "strain-v4" / "last.pt", work / "strain-sst2" / "last.pt", 0.5, work / "strain-v6" / "last.pt",
                "usegan-strain-v6")  # fmt: skip
    case = work / "phantom-test" / "case_00000"
    case.mkdir(parents=True)
    (case / "meta.json").write_text(json.dumps({"version": "phantom-3"}))
    return work


def _card(model_card, work: Path, run: str, name: str) -> str:
    dest = work.parent / f"usegan-{run}.pt"
    shutil.copyfile(work / run / "last.pt", dest)
    results = {f"{run}/test": {"kappa": 0.5, "confusion": [[1, 0], [0, 1]]}, f"{run}/heldout": {"kappa": 0.3}}
    return model_card.write_card(name, work / run, results, dest, 20).read_text()


def test_the_card_of_an_average_names_it_its_style_stage_and_the_real_scans_role(tmp_path, model_card):
    work = _work(tmp_path, model_card)
    card = _card(model_card, work, "strain-v6", "strain")
    assert card.startswith("# Model card: `usegan-strain-v6`")
    assert "then the weight-space average 0.5 x `usegan-strain-v4` + 0.5 x `usegan-strain-sst2`" in card
    assert (
        "interpolate('data/runs/bundled/strain-v4/last.pt', 'data/runs/bundled/strain-sst2/last.pt', 0.5, "
        "'data/runs/bundled/strain-v6/last.pt', 'usegan-strain-v6')" in card
    )
    sst2 = next(line for line in card.splitlines() if "--out data/runs/bundled/strain-sst2 " in line)
    assert "--data data/runs/bundled/phantom3-sup-train" in sst2
    assert "--depth-gain 0.3" in sst2 and "--style-beta 0.03" in sst2
    assert "--style-dir data/runs/bundled/real-style" in sst2 and "/somewhere/private" not in card
    assert model_card.DATA_NOTES["phantom3-sup-train"] in card
    assert "Trained on *simulated phantoms only* (every elastogram it learned from is simulated" in card
    assert "- Simulated data only (real scans only as unlabelled appearance):" in card
    assert "| strain-sst2 | 20 |" in card  # the trained stages are listed; the average is not a stage


def test_a_card_without_an_average_or_real_scans_says_neither(tmp_path, model_card):
    work = _work(tmp_path, model_card)
    card = _card(model_card, work, "swe-v5", "swe")
    assert "then the weight-space average" not in card and "interpolate(" not in card
    assert "unlabelled" not in card and "--style-dir" not in card
    assert model_card.DATA_NOTES["phantom3-train"] in card
