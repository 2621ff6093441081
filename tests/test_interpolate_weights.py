"""``scripts/interpolate_weights.py`` (WiSE-FT): the ends are the two models, the middle is their mean, the result is
an ordinary checkpoint that says what it was made from, and models that cannot be averaged are refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from tests.app_fixtures import tiny_checkpoint
from usegan.checkpoint import CheckpointError, load_generator
from usegan.provenance import Provenance, from_training

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "interpolate_weights.py"
spec = importlib.util.spec_from_file_location("interpolate_weights", SCRIPT)
iw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(iw)


@pytest.fixture
def pair(tmp_path):
    torch.manual_seed(0)
    start = tiny_checkpoint(tmp_path / "start.pt", "strain", "usegan-strain-a", lut_index=20)
    torch.manual_seed(1)  # other random body weights too, not only another head bias
    tuned = tiny_checkpoint(tmp_path / "tuned.pt", "strain", "usegan-strain-b", lut_index=230)
    return start, tuned


def _states(*paths):
    return [load_generator(p)[0].state_dict() for p in paths]


def test_the_ends_are_the_two_models_and_the_middle_is_their_mean(pair):
    a, b = _states(*pair)
    for alpha, want in ((0.0, a), (1.0, b)):
        got = iw.interpolate(*pair, alpha)[0].state_dict()
        assert all(torch.equal(got[k], want[k]) for k in a)
    mid = iw.interpolate(*pair, 0.5)[0].state_dict()
    moved = [k for k in a if not torch.equal(a[k], b[k])]
    assert "head.1.bias" in moved and "stem.1.weight" in moved
    for key in moved:
        torch.testing.assert_close(mid[key], (a[key] + b[key]) / 2)


def test_the_result_loads_and_records_both_models(pair, tmp_path, capsys):
    out = tmp_path / "mixed.pt"
    iw.main(["--start", str(pair[0]), "--finetuned", str(pair[1]), "--alpha", "0.25", "--version", "usegan-strain-w25",
             "--out", str(out)])  # fmt: skip
    model, info = load_generator(out)
    record = info.training["interpolation"]
    assert info.version == "usegan-strain-w25" and info.mode == "strain" and record["alpha"] == 0.25
    assert [record["start"]["version"], record["finetuned"]["version"]] == ["usegan-strain-a", "usegan-strain-b"]
    assert from_training(info.training) is Provenance.PHANTOM  # both parents were trained on phantoms only
    assert "usegan-strain-w25" in capsys.readouterr().out
    with torch.no_grad():
        position = model(torch.zeros(1, 1, 64, 64), with_scalar=True)[1]
    assert 20 / 255 < float(position.mean()) < 230 / 255  # between the two parents' constant outputs


def test_models_that_cannot_be_averaged_are_refused(pair, tmp_path):
    swe = tiny_checkpoint(tmp_path / "swe.pt", "swe", "usegan-swe-a")
    with pytest.raises(CheckpointError, match="mode 'swe' differs"):
        iw.interpolate(pair[0], swe, 0.5)
    with pytest.raises(ValueError, match="alpha must be in \\[0, 1\\], got 1.5"):
        iw.interpolate(*pair, 1.5)
