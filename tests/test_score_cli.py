"""``usegan score``: output, JSON, reference ROI, SWE options, and every bad-input case."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from usegan.cli import main
from usegan.colormaps import strain_colormap, swe_colormap

N = 64
YY, XX = np.mgrid[:N, :N]
LESION = (YY - 32) ** 2 + (XX - 32) ** 2 < 12**2


@pytest.fixture
def files(tmp_path):
    strain = np.where(LESION, 0.1, 0.8)
    paths = {
        "strain": tmp_path / "strain.png",
        "swe": tmp_path / "swe.png",
        "mask": tmp_path / "mask.png",
        "small_mask": tmp_path / "small.png",
        "gray": tmp_path / "gray.png",
    }
    Image.fromarray(strain_colormap().apply(strain)).save(paths["strain"])
    Image.fromarray(swe_colormap(0, 100).apply(np.where(LESION, 12.0, 4.0))).save(paths["swe"])
    Image.fromarray((LESION * 255).astype(np.uint8)).save(paths["mask"])
    Image.fromarray(np.full((N // 2, N // 2), 255, np.uint8)).save(paths["small_mask"])
    Image.fromarray(np.full((N, N), 128, np.uint8)).save(paths["gray"])
    return {k: str(v) for k, v in paths.items()}


def test_text_output_with_mask_and_reference(files, capsys):
    rc = main(["score", files["strain"], "--mode", "strain", "--mask", files["mask"], "--ref", "0,0,10,10"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "tsukuba: 4: whole lesion hard" in out
    assert "lesion_hard_fraction: 1" in out and "strain_ratio: strain ratio" in out


def test_json_output(files, capsys):
    rc = main(["score", files["strain"], "--mode", "strain", "--roi", "26,26,12,12", "--organ", "thyroid", "--json"])
    data = json.loads(capsys.readouterr().out)
    # The rectangle sits inside the hard lesion, so the tissue around and behind it is hard too: Rago 5.
    assert rc == 0 and data["system"] == "rago" and data["score"] == 5
    assert data["figures"]["lesion_hard_fraction"] == 1.0 and data["figures"]["posterior_hard_fraction"] == 1.0
    assert data["algorithm_version"]


def test_swe_liver_with_custom_scale(files, capsys):
    argv = ["score", files["swe"], "--mode", "swe", "--mask", files["mask"], "--organ", "liver", "--vmax", "100"]
    rc = main([*argv, "--ref", "0,0,10,10", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["system"] == "swe_liver" and data["score"] == 3  # 12 kPa: 9-13 needs further tests
    assert data["figures"]["emean_kpa"] == pytest.approx(12.0, abs=0.5)
    assert data["figures"]["eratio"] == pytest.approx(3.0, rel=0.1)


def test_log_strain_scale_changes_the_ratio(files, capsys):
    base = ["score", files["strain"], "--mode", "strain", "--mask", files["mask"], "--ref", "0,0,10,10", "--json"]
    main(base)
    linear = json.loads(capsys.readouterr().out)["secondary"][0]["figures"]["strain_ratio"]
    main([*base, "--strain-log-range", "8"])
    log = json.loads(capsys.readouterr().out)["secondary"][0]["figures"]["strain_ratio"]
    assert linear == pytest.approx(8.0, rel=0.05)
    assert log == pytest.approx(8.0 ** (2 * 0.8 - 1) / 8.0 ** (2 * 0.1 - 1), rel=0.05)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--roi", "100,100,5,5"], "outside"),
        (["--roi", "10,10,0,8"], "zero area"),
        (["--mask", "{small_mask}"], "mask is 32x32"),
    ],
)
def test_cannot_score_cases_exit_1_with_reason(files, capsys, extra, message):
    extra = [e.format(**files) for e in extra]
    rc = main(["score", files["strain"], "--mode", "strain", *extra])
    out = capsys.readouterr().out
    assert rc == 1
    assert "cannot score" in out and message in out


def test_mostly_unknown_colours_exit_1(files, tmp_path, capsys):
    rgb = np.asarray(Image.open(files["strain"])).copy()
    rgb[LESION & (YY > 26)] = 128
    path = tmp_path / "overlay.png"
    Image.fromarray(rgb).save(path)
    rc = main(["score", str(path), "--mode", "strain", "--mask", files["mask"]])
    assert rc == 1 and "unknown colours" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{strain}", "--mode", "strain", "--roi", "1,2"], "x,y,w,h"),
        (["{strain}", "--mode", "strain", "--roi", "1,2,3,4", "--ref", "a,b,c,d"], "x,y,w,h"),
        (["missing.png", "--mode", "strain", "--roi", "1,2,3,4"], "no such file"),
        (["{gray}", "--mode", "strain", "--roi", "1,2,3,4"], "colour image"),
        (["{strain}", "--mode", "strain", "--roi", "1,2,3,4", "--organ", "liver"], "breast"),
        (["{strain}", "--mode", "strain", "--roi", "1,2,3,4", "--vmax", "50"], "SWE"),
        (["{swe}", "--mode", "swe", "--roi", "1,2,3,4", "--vmin", "50", "--vmax", "10"], "increase"),
    ],
)
def test_bad_arguments_exit_2(files, capsys, argv, message):
    rc = main(["score", *[a.format(**files) for a in argv]])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.startswith("usegan score: error:")
