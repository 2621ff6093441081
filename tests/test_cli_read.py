"""``usegan read``: a B-mode and a lesion ROI -> the proposal on the whole image and, for a lesion small in the
frame, on a box framing it (what the review page shows), with the files it writes labelled as virtual."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.optimize_fixtures import tiny_checkpoint
from usegan.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("read")
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, size=(200, 240), dtype=np.uint8)).save(root / "scan.png")
    return root, tiny_checkpoint(root / "tiny.pt", "tiny-read", seed=2)


def _read(capsys, files, *args) -> tuple[int, dict]:
    root, model = files
    code = main(["read", str(root / "scan.png"), "--model", str(model), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_small_lesion_is_read_on_the_whole_image_and_framed(capsys, files, tmp_path):
    code, out = _read(capsys, files, "--roi", "100,80,20,20", "--out", str(tmp_path))
    assert code == 0 and out["model_version"] == "tiny-read"
    assert out["small_in_frame"] is True and out["frame_fraction"] == pytest.approx(0.1, abs=0.01)
    assert out["proposal"]["score"] is not None and out["framed"]["box"] == [80, 60, 60, 60]
    assert out["framed"]["label"] == "VIRTUAL - FRAMED 3x - tiny-read" and out["framed"]["proposal"]["score"]
    whole, framed = Image.open(out["output"]), Image.open(out["framed"]["output"])
    assert whole.size == (240, 200) and framed.size == (60, 60)
    assert whole.text["usegan:virtual"] == "true" and framed.text["Description"].startswith("VIRTUAL - FRAMED 3x")


def test_a_large_lesion_is_framed_only_when_asked(capsys, files):
    code, out = _read(capsys, files, "--roi", "40,40,120,120")
    assert code == 0 and out["small_in_frame"] is False and out["framed"] is None
    _, always = _read(capsys, files, "--roi", "40,40,120,120", "--frame", "always")
    assert always["framed"]["box"] == [0, 0, 200, 200]  # 3x would be 360 px: at most the image's shorter side
    assert always["framed"]["label"] == "VIRTUAL - FRAMED 1.7x - tiny-read"  # what the box is, not what was asked
    _, never = _read(capsys, files, "--roi", "100,80,20,20", "--frame", "never")
    assert never["framed"] is None and never["proposal"] == _read(capsys, files, "--roi", "100,80,20,20")[1]["proposal"]


def test_bad_rois_and_files_are_refused_with_what_is_wrong(capsys, files):
    root, model = files
    assert main(["read", str(root / "scan.png"), "--model", str(model), "--roi", "1,2,3"]) == 2
    assert "x,y,w,h" in capsys.readouterr().err
    assert main(["read", str(root / "missing.png"), "--model", str(model), "--roi", "1,2,3,4"]) == 2
    assert "missing.png" in capsys.readouterr().err
    # an ROI outside the image: nothing to score, said, exit 1
    code, out = _read(capsys, files, "--roi", "500,500,10,10")
    assert code == 1 and out["proposal"]["score"] is None and "outside" in out["proposal"]["label"]
    assert out["frame_fraction"] is None and out["framed"] is None
