"""Feature-level domain adaptation (usegan.models.domain) and its place in training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from usegan.cli import main
from usegan.datasets import target_crops, target_scans
from usegan.models.domain import DomainClassifier, dann_ramp, domain_loss, reverse_gradient, valid_locations
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.training.config import TrainConfig


def test_reverse_gradient_is_identity_forward_and_negated_scaled_backward():
    x = torch.randn(2, 3, requires_grad=True)
    y = reverse_gradient(x, 0.25)
    assert torch.equal(y, x)
    (y * torch.arange(6.0).view(2, 3)).sum().backward()
    assert torch.allclose(x.grad, -0.25 * torch.arange(6.0).view(2, 3))
    with pytest.raises(ValueError, match="-1"):
        reverse_gradient(x, -1.0)


def test_dann_ramp_rises_from_zero_to_one():
    values = [dann_ramp(p) for p in np.linspace(0, 1, 11)]
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0, abs=1e-4)
    assert dann_ramp(0.2) == pytest.approx(0.7616, abs=1e-4)
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert dann_ramp(-3.0) == 0.0 and dann_ramp(7.0) == dann_ramp(1.0)


def test_valid_locations_keep_only_locations_wholly_inside_the_content():
    valid = torch.ones(1, 1, 16, 16, dtype=torch.bool)
    valid[..., :, :5] = False  # fill in the first five columns: locations 0 and 1 of 4 px each touch it
    out = valid_locations(valid, torch.zeros(1, 8, 4, 4))
    assert out.shape == (1, 1, 4, 4)
    assert out[0, 0, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="multiple"):
        valid_locations(valid, torch.zeros(1, 8, 5, 5))


def test_domain_loss_ignores_fill_and_reverses_only_the_features_gradient():
    torch.manual_seed(0)
    classifier = DomainClassifier(4, hidden=8)
    source = torch.randn(2, 4, 6, 6, requires_grad=True)
    target = torch.randn(2, 4, 6, 6)
    keep = torch.ones(2, 1, 6, 6)
    keep[:, :, :, :3] = 0.0  # column 0 is fill; columns 1-2 see it through the classifier's 3x3 convolutions
    loss, accuracy = domain_loss(classifier, source, target, 0.5, keep)
    assert 0.0 <= accuracy <= 1.0 and loss.item() > 0
    changed = source.detach().clone()
    changed[:, :, :, 0] += 100.0
    assert domain_loss(classifier, changed, target, 0.5, keep)[0].item() == pytest.approx(loss.item())
    assert domain_loss(classifier, changed, target, 0.5)[0].item() != pytest.approx(loss.item())  # unmasked: it counts
    # the features get the plain gradient times -weight, the classifier the plain gradient
    loss.backward()
    reversed_source, reversed_params = source.grad.clone(), [p.grad.clone() for p in classifier.parameters()]
    classifier.zero_grad()
    plain_source = source.detach().clone().requires_grad_(True)
    logit_s, logit_t = classifier(plain_source), classifier(target)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    plain = 0.5 * (
        (bce(logit_s, torch.zeros_like(logit_s), reduction="none") * keep).sum() / keep.sum()
        + bce(logit_t, torch.ones_like(logit_t))
    )
    assert plain.item() == pytest.approx(loss.item(), rel=1e-6)
    plain.backward()
    assert torch.allclose(reversed_source, -0.5 * plain_source.grad, atol=1e-7)
    assert all(
        torch.allclose(r, p.grad, atol=1e-7) for r, p in zip(reversed_params, classifier.parameters(), strict=True)
    )


def test_encode_then_decode_is_the_forward_pass():
    torch.manual_seed(0)
    generator = USEGANGenerator(GeneratorConfig(base_channels=8, n_res_blocks=2, image_size=32)).eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        features = generator.encode(x)
        assert features.shape == (2, 64, 4, 4)
        rgb, position, log_scale = generator.decode(features, with_scalar=True)
        assert torch.equal(rgb, generator(x))
        assert position.shape == log_scale.shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="multiple of 8"):
        generator.encode(torch.zeros(1, 1, 30, 32))


@pytest.fixture
def scans_folder(tmp_path: Path) -> Path:
    """Three grey 'target-domain' scans of different sizes."""
    folder = tmp_path / "scans"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i, shape in enumerate([(60, 80), (48, 48), (90, 70)]):
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(folder / f"s{i}.png")
    return folder


def test_target_crops_are_reproducible_views_in_the_training_range(scans_folder):
    scans = target_scans(str(scans_folder))
    a = target_crops(scans, 5, (32, 40), np.random.default_rng(1))
    b = target_crops(scans, 5, (32, 40), np.random.default_rng(1))
    assert a.shape == (5, 1, 32, 40) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert a.min() >= -1.0 and a.max() <= 1.0 and a.std() > 0.1
    assert not torch.equal(a, target_crops(scans, 5, (32, 40), np.random.default_rng(2)))
    with pytest.raises(ValueError, match="at least one scan"):
        target_crops((), 1, (8, 8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="min_side"):
        target_crops(scans, 1, (8, 8), np.random.default_rng(0), min_side=0.0)


def test_config_refuses_a_domain_weight_without_scans_or_generator(tmp_path):
    with pytest.raises(ValueError, match="needs domain_dir"):
        TrainConfig(out=str(tmp_path), domain_weight=1.0)
    with pytest.raises(ValueError, match="domain_weight must be >= 0"):
        TrainConfig(out=str(tmp_path), domain_weight=-0.1, domain_dir="x")
    with pytest.raises(ValueError, match="bottleneck"):
        TrainConfig(out=str(tmp_path), domain_weight=1.0, domain_dir="x", architecture="unet", image_size=32)


def test_training_with_a_domain_term_logs_it_keeps_its_state_and_ships_only_the_generator(tmp_path, scans_folder):
    from tests.test_training import TINY, read_log
    from usegan.checkpoint import read_checkpoint

    pairs = tmp_path / "pairs"
    rng = np.random.default_rng(1)
    for sub in ("bmode", "elasto"):
        (pairs / sub).mkdir(parents=True)
    for i in range(6):
        Image.fromarray((rng.random((40, 40)) * 200).astype(np.uint8)).save(pairs / "bmode" / f"c{i}.png")
        elasto = np.zeros((40, 40, 3), np.uint8)
        elasto[..., 0] = 200
        Image.fromarray(elasto).save(pairs / "elasto" / f"c{i}.png")
    run = tmp_path / "run"
    args = ["train", "--data", str(pairs), "--out", str(run), "--val-every", "2", "--sample-every", "100", *TINY]
    args += ["--domain-dir", str(scans_folder), "--domain-weight", "1.0"]
    assert main([*args, "--steps", "2"]) == 0
    events = [e for e in read_log(run) if e["event"] == "train"]
    assert all("loss_domain" in e and 0.0 <= e["domain_accuracy"] <= 1.0 for e in events)
    state = torch.load(run / "state.pt", weights_only=True)
    assert "domain_classifier" in state and "opt_domain" in state
    saved_views = np.random.default_rng(0)
    saved_views.bit_generator.state = state["domain_rng"]
    assert saved_views.random() != np.random.default_rng([0, 0xDA]).random()  # the views drawn so far are not redrawn
    shipped = read_checkpoint(run / "last.pt")
    assert set(shipped["state_dict"]) == set(
        USEGANGenerator(GeneratorConfig(**shipped["generator_config"])).state_dict()
    )
    assert json.loads((run / "config.json").read_text())["domain_weight"] == 1.0
    assert main([*args, "--steps", "3", "--resume", str(run / "state.pt")]) == 0
    assert [e["step"] for e in read_log(run) if e["event"] == "train"] == [1, 2, 3]
    # a state.pt written before the views' stream was saved (no "domain_rng") still resumes
    state = torch.load(run / "state.pt", weights_only=True)
    del state["domain_rng"]
    torch.save(state, run / "old-state.pt")
    assert main([*args, "--steps", "4", "--resume", str(run / "old-state.pt")]) == 0
    assert [e["step"] for e in read_log(run) if e["event"] == "train"] == [1, 2, 3, 4]


def test_the_domain_term_alone_moves_the_encoder_and_not_the_decoder(tmp_path, scans_folder):
    """With every other loss weighted 0, one training step half way through the run changes the generator's
    encoder (the reversed domain gradient reaches it) and leaves its decoder as it was."""
    from usegan.training.trainer import Trainer

    torch.manual_seed(0)
    config = TrainConfig(
        out=str(tmp_path / "run"), image_size=16, base_channels=8, n_res_blocks=1, batch_size=2, steps=10,
        w_gan=0.0, w_vgg=0.0, w_l1=0.0, w_color=0.0, w_scalar=0.0, w_nll=0.0, device="cpu", seed=0,
        domain_dir=str(scans_folder), domain_weight=1.0,
    )  # fmt: skip
    batch = {
        "bmode": torch.rand(2, 1, 16, 16) * 2 - 1,
        "elasto": torch.zeros(2, 3, 16, 16),
        "position": torch.full((2, 1, 16, 16), 0.5),
        "mask": torch.zeros(2, 1, 16, 16),
        "box": torch.tensor([[0, 0, 16, 16]] * 2),
    }
    trainer = Trainer(config, [batch])
    trainer.step = 5  # the ramp is 0 at the start
    encoder, decoder = (torch.nn.ModuleList(part) for part in trainer.generator._stages())
    before = [[p.detach().clone() for p in part.parameters()] for part in (encoder, decoder)]
    losses = trainer.train_step(batch)
    assert losses["loss_domain"] > 0
    moved = [any(not torch.equal(a, b) for a, b in zip(old, part.parameters(), strict=True)) for old, part in
             zip(before, (encoder, decoder), strict=True)]  # fmt: skip
    assert moved == [True, False]
