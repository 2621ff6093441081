"""Training: metrics against hand-computed values, a tiny end-to-end run with resume, DDP on 2 CPU processes,
and evaluation on a small phantom test set."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from usegan.agreement import confusion_matrix, quadratic_weighted_kappa
from usegan.checkpoint import load_generator
from usegan.cli import main
from usegan.training.metrics import colour_histogram_intersection, psnr_rgb, ssim_rgb

TINY = [
    "--image-size",
    "32",
    "--base-channels",
    "4",
    "--n-res-blocks",
    "1",
    "--d-base-channels",
    "4",
    "--batch-size",
    "2",
    "--vgg-layers",
    "relu1_1,relu2_1",
    "--vgg-input-size",
    "0",
    "--log-every",
    "1",
    "--quiet",
]


def test_quadratic_kappa_matches_hand_computation():
    assert quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    # truth [1,1,2,2], pred [1,2,2,2], K=2: observed weighted disagreement 1/4 (w=1 for the one miss);
    # expected: rows (2,2), cols (1,3) -> off-diagonal expected counts 2*3/4 + 2*1/4 = 2 -> 2/4; kappa = 1 - 0.25/0.5
    assert quadratic_weighted_kappa([1, 1, 2, 2], [1, 2, 2, 2], [1, 2]) == pytest.approx(0.5)
    # systematic off-by-one costs less than off-by-four under quadratic weights
    near = quadratic_weighted_kappa([1, 2, 3, 4, 5] * 4, [2, 3, 4, 5, 5] * 4, [1, 2, 3, 4, 5])
    far = quadratic_weighted_kappa([1, 2, 3, 4, 5] * 4, [5, 5, 1, 1, 1] * 4, [1, 2, 3, 4, 5])
    assert near > 0.5 > far


def test_confusion_matrix_rows_are_truth():
    m = confusion_matrix([1, 1, 3], [1, 2, 3], [1, 2, 3])
    assert m.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_image_metrics_extremes():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim_rgb(a, a) == pytest.approx(1.0)
    assert psnr_rgb(a, a) == 100.0
    assert colour_histogram_intersection(a, a) == pytest.approx(1.0)
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((8, 8, 3), np.uint8)
    blue[..., 2] = 255
    assert colour_histogram_intersection(red, blue) == 0.0
    noisy = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    assert 0 < ssim_rgb(noisy, a) < 1 and 10 < psnr_rgb(noisy, a) < 40


@pytest.fixture(scope="module")
def pairs_folder(tmp_path_factory) -> Path:
    """12 tiny B-mode / elastogram pairs whose colour follows the B-mode brightness (learnable)."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(1)
    for sub in ("bmode", "elasto", "mask"):
        (root / sub).mkdir()
    for i in range(12):
        bmode = (rng.random((40, 40)) * 60 + 40).astype(np.uint8)
        y, x = rng.integers(8, 32, 2)
        bmode[y - 6 : y + 6, x - 6 : x + 6] = 10
        elasto = np.zeros((40, 40, 3), np.uint8)
        elasto[..., 0] = 200
        elasto[y - 6 : y + 6, x - 6 : x + 6] = (0, 0, 200)
        mask = np.zeros((40, 40), np.uint8)
        mask[y - 6 : y + 6, x - 6 : x + 6] = 255
        Image.fromarray(bmode).save(root / "bmode" / f"c{i}.png")
        Image.fromarray(elasto).save(root / "elasto" / f"c{i}.png")
        Image.fromarray(mask).save(root / "mask" / f"c{i}.png")
    return root


def read_log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_tiny_training_end_to_end_and_resume(pairs_folder, tmp_path):
    run = tmp_path / "run"
    args = [
        "train",
        "--data",
        str(pairs_folder),
        "--out",
        str(run),
        "--val-every",
        "3",
        "--sample-every",
        "3",
        "--local-discriminator",
        "true",
        "--version",
        "tiny-1",
        *TINY,
    ]
    assert main([*args, "--steps", "3"]) == 0
    for name in ("config.json", "log.jsonl", "best.pt", "last.pt", "state.pt"):
        assert (run / name).is_file(), name
    assert list((run / "samples").glob("step_*.png"))
    config = json.loads((run / "config.json").read_text())
    assert config["steps"] == 3 and config["local_discriminator"] is True and config["image_size"] == 32
    log = read_log(run)
    train_events = [e for e in log if e["event"] == "train"]
    assert [e["step"] for e in train_events] == [1, 2, 3]
    assert all(e["loss_g"] > 0 and "loss_d" in e and "loss_g_color" in e and "loss_g_vgg" in e for e in train_events)
    assert any(e["event"] == "val" and "val_ssim" in e for e in log)
    generator, info = load_generator(run / "best.pt")
    assert info.version == "tiny-1" and info.generator_config.image_size == 32
    assert info.training["train_cases"] + info.training["val_cases"] == 12
    # resume continues from the saved step instead of starting over
    assert main([*args, "--steps", "5", "--resume", str(run / "state.pt")]) == 0
    steps = [e["step"] for e in read_log(run) if e["event"] == "train"]
    assert steps == [1, 2, 3, 4, 5]


def test_train_reports_bad_data_folder(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "r"), *TINY]) == 2
    assert "not a training folder" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_cpu_processes(pairs_folder, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        "-m",
        "usegan",
        "train",
        "--data",
        str(pairs_folder),
        "--out",
        str(run),
        "--steps",
        "2",
        "--val-every",
        "2",
        "--sample-every",
        "2",
        "--threads",
        "1",
        *TINY,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, info = load_generator(run / "best.pt")
    assert info.training["world_size"] == 2
    done = [e for e in read_log(run) if e["event"] == "done"]
    assert len(done) == 1  # only rank 0 logs


def phantom_and_tiny_model(tmp_path: Path, mode: str, n: int, seed: int, types: list[str]) -> tuple[Path, Path]:
    """``n`` 64 px phantom cases of ``types`` and an untrained tiny ``mode`` generator, version "<mode>-eval-test"."""
    import torch

    from usegan.checkpoint import save_checkpoint
    from usegan.models.generator import GeneratorConfig, USEGANGenerator

    data = tmp_path / "test"
    args = ["phantom", "-n", str(n), "--out", str(data), "--size", "64", "--seed", str(seed), "--quiet"]
    assert main([*args, "--workers", "1", "--types", *types]) == 0
    torch.manual_seed(0)
    model = tmp_path / f"{mode}.pt"
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, image_size=64))
    save_checkpoint(model, generator, mode=mode, version=f"{mode}-eval-test")
    return data, model


def test_evaluate_on_phantom_cases(tmp_path, capsys):
    data, model = phantom_and_tiny_model(tmp_path, "strain", 4, 3, ["malignant", "fibroadenoma"])
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_cases"] == 4 and summary["model_version"] == "strain-eval-test"
    assert -1 <= summary["ssim_box"] <= 1 and 0 <= summary["hist_intersection_box"] <= 1
    assert sum(map(sum, summary["confusion"])) == summary["n_scored"]
    rows = (tmp_path / "strain_eval.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("name")
    assert summary["size"] == 64
    args = ["evaluate", "--model", str(model), "--data", str(data)]
    assert main([*args, "--json", "--size", "128", "--limit", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 128  # the generator run larger than it was trained
    assert main([*args, "--size", "100"]) == 2
    assert "size must be a multiple of 8" in capsys.readouterr().err


def test_swe_lesion_errors_split_by_type_and_visibility():
    from usegan.training.evaluate import lesion_errors
    from usegan.training.metrics import VISIBLE_LESION_CONTRAST as SHOWN

    def row(kind, mae, bias, truth, contrast):
        return {"lesion_type": kind, "mae_kpa_lesion": mae, "bias_kpa_lesion": bias, "truth_kpa_lesion": truth,
                "lesion_contrast": contrast}  # fmt: skip

    rows = [
        row("iso_stiff", 110.0, -110.0, 150.0, 0.1),
        row("iso_stiff", 130.0, -120.0, 140.0, 0.2),
        row("cyst", 10.0, 10.0, 8.0, SHOWN + 1.0),
        row("cyst", 30.0, 20.0, 9.0, SHOWN - 0.1),
        {"lesion_type": "none", "mae_kpa_lesion": None},  # no lesion: not scored
    ]
    table = lesion_errors(rows)
    assert list(table) == ["all", "cyst", "iso_stiff"]
    assert table["all"]["n"] == 4 and table["all"]["mae"] == 70.0 and table["all"]["bias"] == -50.0
    iso = table["iso_stiff"]
    assert (iso["n_visible"], iso["mae_visible"], iso["n_hidden"], iso["mae_hidden"]) == (0, None, 2, 120.0)
    assert iso["truth"] == 145.0 and iso["bias"] == -115.0
    cyst = table["cyst"]
    assert (cyst["mae_visible"], cyst["mae_hidden"], cyst["bias"]) == (10.0, 30.0, 15.0)
    assert lesion_errors([]) == {"all": {"n": 0, "mae": None, "bias": None, "truth": None, "mae_visible": None,
                                         "n_visible": 0, "mae_hidden": None, "n_hidden": 0}}  # fmt: skip


def test_evaluate_swe_reports_lesion_errors_by_type(tmp_path, capsys):
    data, model = phantom_and_tiny_model(tmp_path, "swe", 4, 5, ["malignant", "cyst"])
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    table = summary["lesion_errors"]
    assert table["all"]["n"] == 4 and abs(table["all"]["mae"] - summary["mae_kpa_lesion"]) < 1e-9
    assert sum(g["n"] for kind, g in table.items() if kind != "all") == 4
    assert set(table) == {"all", "malignant", "cyst"}
    assert table["cyst"]["truth"] < 20 < 80 < table["malignant"]["truth"]  # the true map's kPa, by type
    for g in table.values():  # truth + bias is the mean generated kPa: on the SWE map's 0-180 kPa scale
        assert 0 <= g["truth"] + g["bias"] <= 180
    assert abs(table["all"]["bias"]) <= table["all"]["mae"] + 1e-9  # |mean signed error| <= mean |error|
    assert main(["evaluate", "--model", str(model), "--data", str(data)]) == 0
    text = capsys.readouterr().out
    assert "SWE lesion error, kPa" in text
    assert all(f"    {kind} " in text for kind in table)  # a line per group


def test_box_crop_dataset_keeps_pairs_aligned_and_letterboxes(tmp_path):
    from usegan.training.data import open_dataset

    root = tmp_path / "pairs"
    for sub in ("bmode", "elasto", "mask"):
        (root / sub).mkdir(parents=True)
    bmode = np.full((60, 80), 50, np.uint8)
    elasto = np.stack([bmode] * 3, -1)  # gray outside the box, as a scanner shows it
    elasto[10:50, 20:40] = (0, 200, 0)  # the colour box: 20 wide, 40 tall
    elasto[20:30, 25:35] = (0, 0, 200)  # a hard lesion inside it
    mask = np.zeros((60, 80), np.uint8)
    mask[20:30, 25:35] = 255
    bmode[20:30, 25:35] = 5
    for sub, arr in (("bmode", bmode), ("elasto", elasto), ("mask", mask)):
        Image.fromarray(arr).save(root / sub / "a.png")
    item = open_dataset(root, "strain", 32, augment=False)[0]
    assert item["bmode"].shape == (1, 32, 32) and item["elasto"].shape == (3, 32, 32)
    x, y, w, h = item["box"].tolist()
    assert (w, h) == (16, 32) and (x, y) == (8, 0)  # 20x40 box letterboxed into 32x32
    # no gray B-mode is left in the target: every inner pixel is colour-map green or blue
    inner = item["elasto"][:, y : y + h, x : x + w]
    assert (inner[0] < -0.9).all()
    # the lesion is at the same place in B-mode, elastogram and mask
    lesion = item["mask"][0] > 0.5
    assert lesion.sum() > 0
    assert (item["bmode"][0][lesion] < -0.8).all() and (item["elasto"][2][lesion] > 0.3).all()
    assert (item["bmode"][0, :, :x] == -1).all()  # letterbox padding is black


def test_loss_falls_when_overfitting_one_batch(tmp_path):
    """The generator learns: its L1 on one fixed batch falls well below where it started within 40 steps (a broken
    gradient path, optimizer wiring or loss sign leaves it flat). Tiny on purpose: 16x16 images, no GAN, no VGG."""
    import torch

    from usegan.models.colormap_render import lut_tensor, render_positions
    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    torch.manual_seed(0)
    config = TrainConfig(
        out=str(tmp_path / "overfit"), image_size=16, base_channels=8, n_res_blocks=1, batch_size=2, steps=40,
        lr_g=3e-3, decay_start=1.0, w_gan=0.0, w_vgg=0.0, w_l1=100.0, w_color=10.0, device="cpu", seed=0,
    )  # fmt: skip
    bmode = torch.rand(2, 1, 16, 16) * 2 - 1
    position = (bmode > 0).float() * 0.8 + 0.1  # red (soft) where the B-mode is bright, blue (hard) where dark
    batch = {
        "bmode": bmode,
        "elasto": render_positions(position, lut_tensor()),
        "position": position,
        "mask": torch.zeros(2, 1, 16, 16),
        "box": torch.tensor([[0, 0, 16, 16]] * 2),
    }
    trainer = Trainer(config, [batch])
    l1 = [trainer.train_step(batch)["loss_g_l1"] for _ in range(config.steps)]
    assert sum(l1[-5:]) / 5 < 0.7 * l1[0], [round(v, 3) for v in l1[::5]]
    assert all(later <= earlier for earlier, later in zip(l1[:-10:10], l1[10::10], strict=True)), l1[::10]


def _pairs_with_box(root: Path) -> Path:
    """One department pair: gray B-mode outside a colour box, a hard lesion inside it."""
    for sub in ("bmode", "elasto", "mask"):
        (root / sub).mkdir(parents=True)
    from usegan.colormaps import strain_colormap

    bmode = np.full((60, 80), 50, np.uint8)
    elasto = np.stack([bmode] * 3, -1)
    elasto[10:50, 20:40] = strain_colormap().apply(np.full((40, 20), 0.5))
    elasto[20:30, 25:35] = strain_colormap().apply(np.full((10, 10), 0.05))
    mask = np.zeros((60, 80), np.uint8)
    mask[20:30, 25:35] = 255
    for sub, arr in (("bmode", bmode), ("elasto", elasto), ("mask", mask)):
        Image.fromarray(arr).save(root / sub / "a.png")
    return root


def test_fill_is_marked_in_the_target_and_patches_keep_inference_scale(tmp_path):
    import torch

    from usegan.training.data import open_dataset

    root = _pairs_with_box(tmp_path / "pairs")
    item = open_dataset(root, "strain", 32, augment=False)[0]
    x, y, w, h = item["box"].tolist()
    position = item["position"][0]
    assert torch.isnan(position[:, :x]).all() and torch.isnan(position[:, x + w :]).all()  # letterbox = fill
    inner = position[y : y + h, x + 1 : x + w - 1]
    assert torch.isfinite(inner).all() and inner.min() < 0.1 and inner.max() == pytest.approx(0.5, abs=0.01)
    torch.manual_seed(0)
    patches = [open_dataset(root, "strain", 64, augment=True, patch=32)[0] for _ in range(6)]
    for p in patches:
        assert p["bmode"].shape == (1, 32, 32) and p["position"].shape == (1, 32, 32)
        x, y, w, h = p["box"].tolist()  # the content area of the patch; outside it is padding
        outside = torch.ones(32, 32, dtype=torch.bool)
        outside[y : y + h, x : x + w] = False
        assert (p["bmode"][0][outside] == -1).all() and torch.isnan(p["position"][0][outside]).all()
    assert any(torch.isnan(p["position"]).any() for p in patches)  # a 20x40 box scaled to 64 tall leaves fill


def test_training_learns_nothing_from_fill(tmp_path):
    """A batch that is all fill gives zero pixel, scalar and uncertainty losses: no gradient comes from fill."""
    import torch

    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    config = TrainConfig(
        out=str(tmp_path / "run"), image_size=32, base_channels=4, n_res_blocks=1, d_base_channels=4,
        batch_size=2, vgg_input_size=0, vgg_layers="relu1_1", steps=1,
    )  # fmt: skip
    trainer = Trainer(config, train_set=[], val_set=None)
    batch = {
        "bmode": torch.rand(2, 1, 32, 32) * 2 - 1,
        "elasto": -torch.ones(2, 3, 32, 32),
        "position": torch.full((2, 1, 32, 32), float("nan")),
        "mask": torch.zeros(2, 1, 32, 32),
    }
    losses = trainer.train_step(batch)
    assert losses["loss_g_l1"] == 0.0 and losses["loss_g_scalar"] == 0.0 and losses["loss_g_nll"] == 0.0
    assert losses["loss_g_color"] == 0.0
    batch["position"][:, :, 8:24, 8:24] = 0.5
    batch["elasto"][:, :, 8:24, 8:24] = 0.0
    assert trainer.train_step(batch)["loss_g_scalar"] > 0.0


def test_lesion_focus_puts_the_lesion_in_every_patch(tmp_path):
    """lesion_focus=1: every patch holds lesion pixels, although a uniformly placed patch often misses the
    small lesion of _pairs_with_box (10x10 in a 20x40 box, 24 px patches of the box scaled to 64)."""
    import torch

    from usegan.training.data import open_dataset

    root = _pairs_with_box(tmp_path / "pairs")
    torch.manual_seed(0)
    focused = open_dataset(root, "strain", 64, augment=True, patch=24, lesion_focus=1.0)
    assert all(focused[0]["mask"].sum() > 0 for _ in range(20))
    uniform = open_dataset(root, "strain", 64, augment=True, patch=24, lesion_focus=0.0)
    assert any(uniform[0]["mask"].sum() == 0 for _ in range(40))
    with pytest.raises(ValueError, match="lesion_focus"):
        open_dataset(root, "strain", 64, augment=True, patch=24, lesion_focus=1.5)


def test_cut_above_lesion_puts_the_lesion_at_the_top_of_an_about_square_frame():
    import torch

    from usegan.training.data import cut_above_lesion

    mask = torch.zeros(100, 120, dtype=torch.bool)
    mask[40:50, 50:62] = True  # a 10 x 12 lesion in a box (10, 5) - (110, 95)
    box = (10, 5, 110, 95)
    x0, y0, x1, y1 = cut_above_lesion(mask, box, draw=0.0)
    assert (y0, y1) == (40, 95) and x1 - x0 == y1 - y0 == 55  # starts at the lesion, square, the depth below kept
    assert 10 <= x0 and x1 <= 110 and x0 <= 50 and 62 <= x1  # inside the box, the lesion inside it
    x0, y0, x1, y1 = cut_above_lesion(mask, box, draw=0.5, max_margin=0.1)
    assert y0 == 40 - round(0.05 * 90) and x0 <= 50 - round(0.05 * 90) and 62 <= x1 <= 110
    assert cut_above_lesion(torch.zeros_like(mask), box, 0.0) == box  # no lesion: unchanged
    deep = torch.zeros_like(mask)
    deep[80:92, 50:60] = True  # too little depth below the cut to hold twice the lesion
    assert cut_above_lesion(deep, box, 0.0) == box


def test_lesion_top_puts_the_lesion_at_the_top_of_the_training_frame(tmp_path):
    """lesion_top=1: every training box starts just above its lesion (letterboxed, no patch, no rotation): at most a
    tenth of the box's 40 rows above it (4 of the cut box's <= 34 rows), where the plain box has 10 of 40 (the colour
    box of _pairs_with_box spans rows 10-50, the lesion starts at row 20)."""
    import torch

    from usegan.datasets import AugmentConfig
    from usegan.training.data import open_dataset

    root = _pairs_with_box(tmp_path / "pairs")
    still = AugmentConfig(hflip=0.0, rotate_deg=0.0)

    def lesion_top_row(item) -> float:
        x, y, w, h = item["box"].tolist()
        return (torch.nonzero(item["mask"][0].any(dim=1))[0, 0].item() - y) / h

    torch.manual_seed(0)
    cut = open_dataset(root, "strain", 64, augment=still, lesion_top=1.0)
    tops = [lesion_top_row(cut[0]) for _ in range(8)]
    assert max(tops) <= 4 / 34 + 0.02 and len(set(tops)) > 1  # the margin is drawn
    assert lesion_top_row(open_dataset(root, "strain", 64, augment=still, lesion_top=0.0)[0]) == pytest.approx(0.25)
    # patches of a box scaled below the patch (jitter < 1): the cut box still starts at the frame's top row
    small = open_dataset(root, "strain", 64, augment=still, patch=60, scale_jitter=1.0, lesion_top=1.0)
    items = [small[0] for _ in range(12)]
    assert all(item["box"][1] == 0 for item in items)
    assert all((item["bmode"][0, 0] > -1).any() for item in items)
    assert any(item["box"][3] < 60 for item in items)  # some boxes were smaller than the patch (fill below them)
    with pytest.raises(ValueError, match="lesion_top"):
        open_dataset(root, "strain", 64, augment=True, lesion_top=-0.1)


def test_lesion_weight_reaches_the_margin_and_scales_the_lesion_error(tmp_path):
    import torch

    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    def trainer(w_lesion: float) -> Trainer:
        config = TrainConfig(
            out=str(tmp_path / f"run{w_lesion}"), image_size=32, base_channels=4, n_res_blocks=1, d_base_channels=4,
            batch_size=1, vgg_input_size=0, vgg_layers="relu1_1", steps=1, w_lesion=w_lesion, lesion_margin_px=2,
        )  # fmt: skip
        return Trainer(config, train_set=[], val_set=None)

    mask = torch.zeros(1, 1, 32, 32)
    mask[:, :, 10:14, 10:14] = 1
    weights = trainer(4.0).pixel_weights(mask)[0, 0]
    assert weights[12, 12] == 5.0 and weights[8, 8] == 5.0  # inside, and 2 px out (the margin)
    assert weights[7, 12] == 1.0 and weights[0, 0] == 1.0
    assert torch.equal(trainer(0.0).pixel_weights(mask), torch.ones_like(mask))
    with pytest.raises(ValueError, match="w_lesion"):
        TrainConfig(w_lesion=-1)


def test_lesion_weight_only_for_lesions_the_bmode_shows(tmp_path):
    """An iso-echoic lesion (no B-mode sign) is learnt at background weight: weighting it would teach stiff
    patches in normal-looking tissue."""
    import torch

    from usegan.training.config import TrainConfig
    from usegan.training.metrics import lesion_contrast
    from usegan.training.trainer import Trainer

    config = TrainConfig(
        out=str(tmp_path / "run"), image_size=32, base_channels=4, n_res_blocks=1, d_base_channels=4,
        batch_size=2, vgg_input_size=0, vgg_layers="relu1_1", steps=1, w_lesion=4.0, lesion_margin_px=0,
    )  # fmt: skip
    torch.manual_seed(0)
    bmode = torch.rand(2, 1, 32, 32) * 0.4 - 0.2  # speckle-like background
    mask = torch.zeros(2, 1, 32, 32)
    mask[:, :, 12:20, 12:20] = 1
    bmode[0, :, 12:20, 12:20] -= 0.8  # sample 0: a hypoechoic lesion; sample 1: iso-echoic
    contrast = [lesion_contrast(bmode[i, 0].numpy(), mask[i, 0].numpy() > 0) for i in range(2)]
    assert contrast[0] > 3 and contrast[1] < 0.5
    weights = Trainer(config, train_set=[], val_set=None).pixel_weights(mask, bmode)
    assert weights[0, 0, 15, 15] == 5.0 and weights[1, 0, 15, 15] == 1.0
    assert lesion_contrast(bmode[0, 0].numpy(), np.zeros((32, 32), bool)) == 0.0


def test_bce_scalar_loss_pulls_a_saturated_region_back(tmp_path):
    """A generator whose positions sit at the soft end of the map (sigmoid saturated) while the truth is stiff: the
    L1 scalar loss gives its head almost no gradient, the cross-entropy one a full-sized one."""
    import torch

    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    def head_gradient(scalar_loss: str) -> float:
        config = TrainConfig(
            out=str(tmp_path / scalar_loss), image_size=32, base_channels=4, n_res_blocks=1, batch_size=1, steps=1,
            w_gan=0, w_l1=0, w_color=0, w_vgg=0, w_nll=0, scalar_loss=scalar_loss,
        )  # fmt: skip
        trainer = Trainer(config, train_set=[], val_set=None)
        conv = trainer.generator.head[1]
        with torch.no_grad():
            conv.weight.zero_()
            conv.bias.fill_(-12.0)  # position = sigmoid(-12) ~ 6e-6 everywhere
        batch = {
            "bmode": torch.zeros(1, 1, 32, 32),
            "elasto": torch.zeros(1, 3, 32, 32),
            "position": torch.full((1, 1, 32, 32), 0.9),
            "mask": torch.zeros(1, 1, 32, 32),
        }
        for group in trainer.opt_g.param_groups:
            group["lr"] = 0.0  # keep the weights: only the gradient is compared
        trainer.train_step(batch)
        return conv.bias.grad[0].abs().item()

    l1, bce = head_gradient("l1"), head_gradient("bce")
    assert l1 < 1e-3 and bce > 100 * l1
    with pytest.raises(ValueError, match="scalar_loss"):
        TrainConfig(scalar_loss="l2")


def test_init_invert_position_maps_a_strain_model_to_the_other_end_of_the_map(tmp_path):
    import torch

    from usegan.checkpoint import save_checkpoint
    from usegan.models.generator import GeneratorConfig, USEGANGenerator
    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    torch.manual_seed(0)
    source = USEGANGenerator(GeneratorConfig(base_channels=4, n_res_blocks=1, image_size=32))
    path = tmp_path / "strain.pt"
    save_checkpoint(path, source, mode="strain", version="s", half=False)
    config = TrainConfig(
        out=str(tmp_path / "swe"), mode="swe", image_size=32, base_channels=4, n_res_blocks=1, steps=1,
        init_from=str(path), init_invert_position=True,
    )  # fmt: skip
    target = Trainer(config, train_set=[], val_set=None).generator.eval()
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        _, p_source, s_source = source.eval()(x, with_scalar=True)
        _, p_target, s_target = target(x, with_scalar=True)
    assert torch.allclose(p_target, 1 - p_source, atol=1e-5) and torch.equal(s_target, s_source)


def test_time_budget_shortens_the_run_and_rescales_the_decay(tmp_path):
    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    config = TrainConfig(
        out=str(tmp_path / "run"), image_size=32, base_channels=4, n_res_blocks=1, d_base_channels=4, batch_size=1,
        vgg_input_size=0, vgg_layers="relu1_1", steps=1000, decay_start=0.5, time_budget_s=100.0,
    )  # fmt: skip
    trainer = Trainer(config, train_set=[], val_set=None)
    trainer.step = 30
    # 10 s spent, 0.2 s a step: (0.95 * 100 - 10) / 0.2 = 425 more steps
    assert trainer.fit_to_budget(per_step_s=0.2, elapsed_s=10.0) == 455
    assert trainer._lr_lambda(200) == 1.0 and trainer._lr_lambda(455) == 0.0  # decay now ends at the new length
    assert trainer._lr_lambda(227 + 114) == pytest.approx(0.5, abs=0.01)
    assert trainer.fit_to_budget(per_step_s=0.001, elapsed_s=1.0) == 1000  # never beyond --steps
    assert trainer.fit_to_budget(per_step_s=5.0, elapsed_s=99.0) == 31  # past the budget: one more step
    with pytest.raises(ValueError, match="time_budget_s"):
        TrainConfig(time_budget_s=-1)


def test_time_budget_stops_the_run_with_its_checkpoints(pairs_folder, tmp_path):
    run = tmp_path / "run"
    args = ["train", "--data", str(pairs_folder), "--out", str(run), "--val-every", "50", "--steps", "200", *TINY]
    assert main([*args, "--time-budget-s", "0.000001"]) == 0  # over budget after the first step
    log = read_log(run)
    assert [e["step"] for e in log if e["event"] == "train"] == [1]
    assert [e["steps"] for e in log if e["event"] == "done"] == [1]
    assert (run / "last.pt").is_file() and (run / "state.pt").is_file()


def test_time_budget_fits_the_run_as_it_trains_and_resume_keeps_the_fit(pairs_folder, tmp_path, monkeypatch):
    """A fake clock that advances 0.125 s per training step (exact in binary): timed from step 10, at step 30 the run
    is re-fitted to (0.95 * 10 s - 3.75 s) / 0.125 s = 46 more steps, i.e. 76, logged as a budget event, and stops
    there."""
    import usegan.training.trainer as trainer_module
    from usegan.training.config import TrainConfig
    from usegan.training.trainer import Trainer

    clock = [0.0]
    step = Trainer.train_step

    def timed_step(self, batch):
        clock[0] += 0.125
        return step(self, batch)

    monkeypatch.setattr(trainer_module.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(Trainer, "train_step", timed_step)
    run = tmp_path / "run"
    args = ["train", "--data", str(pairs_folder), "--out", str(run), "--val-every", "1000", "--steps", "200", *TINY]
    assert main([*args, "--log-every", "50", "--time-budget-s", "10"]) == 0
    log = read_log(run)
    assert [(e["step"], e["total_steps"]) for e in log if e["event"] == "budget"] == [(30, 76)]
    assert [e["steps"] for e in log if e["event"] == "done"] == [76]

    saved = json.loads((run / "config.json").read_text())
    resumed = Trainer(TrainConfig.from_dict(saved), train_set=[], val_set=None)
    resumed.load_state(run / "state.pt")
    assert resumed.total_steps == 76  # the fitted length, not --steps 200: the decay does not jump back
    unbudgeted = Trainer(TrainConfig.from_dict({**saved, "time_budget_s": 0.0}), train_set=[], val_set=None)
    unbudgeted.load_state(run / "state.pt")
    assert unbudgeted.total_steps == 200  # without a budget --steps rules (a run may be resumed to go longer)
