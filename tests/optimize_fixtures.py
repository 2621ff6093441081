"""Helpers for the optimisation-loop tests: tiny phantoms imported as signed, paired cases, and tiny models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.store_fixtures import PASSWORD, fast_hasher_fixture, reading_basis  # noqa: F401  (fixture)
from usegan.checkpoint import save_checkpoint
from usegan.cli import main
from usegan.finetune.pairs import split_for
from usegan.imageio import load_image, to_rgb_uint8
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.settings import get_settings
from usegan.store import open_store

TINY = GeneratorConfig(base_channels=4, n_res_blocks=1, image_size=32)  # what TrainConfig rebuilds from these


def patient_ids(n_train: int, n_val: int) -> list[str]:
    """Patient pseudonyms whose (hash-decided) split gives exactly ``n_val`` validation and ``n_train`` train."""
    train, val, i = [], [], 0
    while len(train) < n_train or len(val) < n_val:
        pid = f"P-test-{i}"
        (val if split_for(pid) == "validation" else train).append(pid)
        i += 1
    return train[:n_train] + val[:n_val]


def make_phantoms(folder: Path, n: int, seed: int) -> Path:
    argv = ["phantom", "-n", str(n), "--size", "64", "--seed", str(seed), "--out", str(folder)]
    assert main([*argv, "--workers", "1", "--quiet", "--no-true-strain"]) == 0
    return folder


def tiny_checkpoint(path: Path, version: str, seed: int = 0, white: bool = False) -> Path:
    """A tiny USE-GAN generator checkpoint; ``white=True`` saturates it: every pixel at the red end of the colour map
    (an obviously bad model)."""
    torch.manual_seed(seed)
    generator = USEGANGenerator(TINY)
    if white:
        with torch.no_grad():
            generator.head[1].weight.zero_()
            generator.head[1].bias.fill_(10.0)
    save_checkpoint(path, generator, mode="strain", version=version, training={"simulated_data_only": True})
    return path


def import_signed_pairs(store, phantoms: Path, pids: list[str], sign: bool = True) -> list[str]:
    """One case per phantom folder: its B-mode as the case, its strain.png attached, a review with the lesion's
    bounding box as ROI and the phantom's Tsukuba class as the confirmed score, signed. Returns the case ids."""
    case_ids = []
    folders = sorted(p for p in phantoms.iterdir() if p.is_dir())
    for folder, pid in zip(folders, pids, strict=False):
        bmode = (load_image(folder / "bmode.png")).astype(np.uint8)
        case_id = store.create_case(bmode, organ="breast", created_by="dr_a", source="phantom", patient_id=pid)
        store.attach_real_elastogram(
            case_id, to_rgb_uint8(load_image(folder / "strain.png")), "strain", "phantom", created_by="dr_a"
        )
        mask = load_image(folder / "mask.png") > 127
        # A reading is signed with a lesion ROI; on a phantom without a lesion the reader boxes the centre.
        h, w = mask.shape
        rois = {"lesion": {"type": "rect", "x": w // 4, "y": h // 4, "w": w // 2, "h": h // 2}}
        if mask.any():
            ys, xs = np.nonzero(mask)
            rois["lesion"] = {"type": "rect", "x": int(xs.min()), "y": int(ys.min()),
                              "w": int(xs.max() - xs.min() + 1), "h": int(ys.max() - ys.min() + 1)}  # fmt: skip
        review = store.save_draft(
            case_id, "dr_a", rois, 3, "phantom", expected_version=0, **reading_basis(store, case_id, "strain")
        )
        if sign:
            store.sign(case_id, "dr_a", expected_version=review.row_version)
        case_ids.append(case_id)
    return case_ids


@pytest.fixture(name="loop")
def loop_fixture(tmp_path, monkeypatch, fast_hasher):
    """A store with 6 train + 2 validation signed strain pairs, a tiny bundled base model, a 3-case phantom test
    set. Yields a dict; the store is closed (CLI commands open it themselves): reopen with ``open_store()``.

    The two validation patients' cases repeat the first two training phantoms: the loop's mechanics (a 30-step
    fine-tune beats its random base, so promotion goes through) must not hang on whether 6 tiny pairs generalise
    to 2 unseen ones, which went either way with the data order (the order follows the random case ids).
    """
    model_dir = tmp_path / "models"
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(model_dir))
    phantoms = make_phantoms(tmp_path / "phantoms", 6, seed=5)
    test_set = make_phantoms(tmp_path / "phantom-test", 3, seed=9000)
    tiny_checkpoint(model_dir / "usegan-strain-tiny.pt", "tiny-base")
    with open_store(get_settings()) as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        pids = patient_ids(6, 2)
        case_ids = import_signed_pairs(store, phantoms, pids[:6]) + import_signed_pairs(store, phantoms, pids[6:])
    return {"phantoms": phantoms, "test_set": test_set, "model_dir": model_dir, "case_ids": case_ids}
