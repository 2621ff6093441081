"""Weight-space ensembles: the weights are the interpolation, the file says what it was made from, and mismatched
checkpoints or a bad alpha are refused."""

from __future__ import annotations

import pytest
import torch

from usegan.checkpoint import CheckpointError, load_generator, save_checkpoint
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.training.ensemble import interpolate

CONFIG = GeneratorConfig(base_channels=4, image_size=32, n_res_blocks=2)


def _saved(path, seed, mode="strain", config=CONFIG, version="v"):
    torch.manual_seed(seed)
    save_checkpoint(
        path, USEGANGenerator(config).eval(), mode=mode, version=version, training={"steps": seed}, half=True
    )
    return path


def test_weights_are_the_interpolation(tmp_path):
    a, b = _saved(tmp_path / "a.pt", 1, version="a1"), _saved(tmp_path / "b.pt", 2, version="b2")
    interpolate(a, b, 0.25, tmp_path / "w.pt", "w-0.25")
    (gen_a, _), (gen_b, info_b), (gen_w, info_w) = (load_generator(p) for p in (a, b, tmp_path / "w.pt"))
    state_a, state_b = gen_a.state_dict(), gen_b.state_dict()
    floats = 0
    for name, tensor in gen_w.state_dict().items():
        if tensor.is_floating_point():
            floats += 1
            expected = 0.75 * state_a[name] + 0.25 * state_b[name]
            torch.testing.assert_close(tensor, expected.half().float(), rtol=0, atol=1e-3)
    assert floats > 10
    assert info_w.version == "w-0.25" and info_w.mode == "strain"
    assert info_w.training["weight_ensemble"] == {"a": "a1", "b": "b2", "alpha": 0.25}
    assert info_w.training["steps"] == info_b.training["steps"] == 2


def test_alpha_one_gives_b_back(tmp_path):
    a, b = _saved(tmp_path / "a.pt", 1), _saved(tmp_path / "b.pt", 2)
    interpolate(a, b, 1.0, tmp_path / "w.pt", "w")
    for x, y in zip(
        load_generator(b)[0].state_dict().values(),
        load_generator(tmp_path / "w.pt")[0].state_dict().values(),
        strict=True,
    ):
        assert torch.equal(x, y)


def test_mismatches_and_bad_alpha_are_refused(tmp_path):
    a = _saved(tmp_path / "a.pt", 1)
    with pytest.raises(CheckpointError, match="mode differs"):
        interpolate(a, _saved(tmp_path / "s.pt", 2, mode="swe"), 0.5, tmp_path / "w.pt", "w")
    other = GeneratorConfig(base_channels=8, image_size=32, n_res_blocks=2)
    with pytest.raises(CheckpointError, match="generator_config differs"):
        interpolate(a, _saved(tmp_path / "c.pt", 2, config=other), 0.5, tmp_path / "w.pt", "w")
    with pytest.raises(ValueError, match="1.5"):
        interpolate(a, a, 1.5, tmp_path / "w.pt", "w")
    assert not (tmp_path / "w.pt").exists()
