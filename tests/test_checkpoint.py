"""Self-describing checkpoints: round trip, fp16 storage, and every way a file can be broken."""

from __future__ import annotations

import pytest
import torch

from usegan.checkpoint import (
    CheckpointError,
    bundled_checkpoints,
    file_sha256,
    load_generator,
    read_checkpoint,
    save_checkpoint,
)
from usegan.models.generator import GeneratorConfig, USEGANGenerator

CONFIG = GeneratorConfig(base_channels=4, image_size=32, n_res_blocks=2)


@pytest.fixture
def generator():
    torch.manual_seed(0)
    return USEGANGenerator(CONFIG).eval()


def test_round_trip_rebuilds_identical_generator(tmp_path, generator):
    path = tmp_path / "m.pt"
    sha = save_checkpoint(
        path,
        generator,
        mode="swe",
        version="usegan-swe-test",
        training={"cases": 10, "simulated_data_only": True},
        metrics={"ssim": 0.5},
    )
    assert sha == file_sha256(path)
    loaded, info = load_generator(path)
    assert info.version == "usegan-swe-test" and info.mode == "swe"
    assert info.colour_scale == {"vmin": 0.0, "vmax": 180.0, "unit": "kPa"}
    assert info.generator_config == CONFIG and info.sha256 == sha
    assert info.metrics == {"ssim": 0.5} and info.trained_on_phantoms_only
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    x = torch.randn(1, 1, 32, 32)
    torch.testing.assert_close(loaded(x), generator(x))


def test_fp16_storage_halves_size_and_stays_close(tmp_path, generator):
    full, half = tmp_path / "full.pt", tmp_path / "half.pt"
    save_checkpoint(full, generator, mode="strain", version="v")
    save_checkpoint(half, generator, mode="strain", version="v", half=True)
    assert half.stat().st_size < 0.7 * full.stat().st_size
    loaded, _ = load_generator(half)
    x = torch.randn(1, 1, 32, 32)
    assert (loaded(x) - generator(x)).abs().max() < 0.02


def test_missing_truncated_and_garbage_files(tmp_path, generator):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_generator(tmp_path / "absent.pt")
    path = tmp_path / "m.pt"
    save_checkpoint(path, generator, mode="strain", version="v")
    data = path.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="trunc.pt: not a readable checkpoint"):
        load_generator(tmp_path / "trunc.pt")
    (tmp_path / "junk.pt").write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_generator(tmp_path / "junk.pt")


def test_foreign_and_mismatched_checkpoints(tmp_path, generator):
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": generator.state_dict()}, foreign)
    with pytest.raises(CheckpointError, match="missing format"):
        read_checkpoint(foreign)
    path = tmp_path / "m.pt"
    save_checkpoint(path, generator, mode="strain", version="v")
    payload = torch.load(path, weights_only=True)
    payload["generator_config"]["base_channels"] = 8  # weights no longer fit the config
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="weights do not match the generator config"):
        load_generator(tmp_path / "mismatch.pt")
    payload["generator_config"] = {"base_channels": 4, "bogus": 1}
    torch.save(payload, tmp_path / "badcfg.pt")
    with pytest.raises(CheckpointError, match="bad generator config"):
        load_generator(tmp_path / "badcfg.pt")


def test_bundled_checkpoints_finds_one_per_mode_and_skips_broken(tmp_path, generator):
    save_checkpoint(tmp_path / "a-strain.pt", generator, mode="strain", version="s1")
    save_checkpoint(tmp_path / "b-swe.pt", generator, mode="swe", version="w1")
    (tmp_path / "c-broken.pt").write_bytes(b"nope")
    found = bundled_checkpoints(tmp_path)
    assert {k: v.name for k, v in found.items()} == {"strain": "a-strain.pt", "swe": "b-swe.pt"}


def test_save_rejects_unknown_mode(tmp_path, generator):
    with pytest.raises(ValueError, match="'elastic'"):
        save_checkpoint(tmp_path / "x.pt", generator, mode="elastic", version="v")
