"""Evaluate a checkpoint on the store's validation pairs and on the fixed phantom test set.

On pairs (a snapshot split, :class:`usegan.finetune.pairs.StorePairsDataset`), at the model's own size and, like
the model's training (``crop_to_box``, read from its checkpoint), cropped to the elastography box:

* ``l1``: mean absolute difference of generated vs real elastogram inside the box, in [-1, 1] units (0 = identical,
  lower is better): the number promotion decides on;
* ``ssim_box``: mean SSIM inside the elastography box (higher is better);
* ``score_agreement``: share of cases where the algorithm's pre-score on the *generated* elastogram, with the
  clinician's lesion ROI, equals the clinician's confirmed score (cases without an ROI or a score are left out).

On the phantom test set: :func:`usegan.training.evaluate.evaluate_cases` (SSIM / PSNR / kappa vs ground truth).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from usegan.finetune.pairs import StorePairsDataset
from usegan.inference import tensor_to_rgb
from usegan.training.metrics import crop_box, ssim_rgb
from usegan.vocab import Organ

PHANTOM_KEYS = ("n_cases", "ssim_box", "psnr_box", "hist_intersection_box", "kappa", "accuracy", "mae_kpa_lesion")


@torch.inference_mode()
def evaluate_on_pairs(checkpoint: str | Path, snapshot: str | Path, split: str = "validation") -> dict:
    """``{"n", "l1", "ssim_box", "score_agreement", "n_scored", "case_ids"}`` of ``checkpoint`` on a snapshot split.

    ``{"n": 0}`` when the split is empty.
    """
    from usegan.checkpoint import load_generator
    from usegan.scoring import propose

    generator, info = load_generator(checkpoint)
    try:
        dataset = StorePairsDataset(snapshot, split, info.generator_config.image_size, crop_to_box=crops_to_box(info))
    except ValueError:
        return {"n": 0, "case_ids": []}
    if dataset.mode != info.mode:
        raise ValueError(f"{checkpoint} is a {info.mode} model, the snapshot {snapshot} holds {dataset.mode} pairs")
    l1s, ssims, agree = [], [], []
    for index in range(len(dataset)):
        item, record = dataset[index], dataset.records[index]
        fake = generator(item["bmode"][None]).float()
        x, y, w, h = (int(v) for v in item["box"])
        box = (x, y, w, h)
        l1s.append(F.l1_loss(fake[0, :, y : y + h, x : x + w], item["elasto"][:, y : y + h, x : x + w]).item())
        fake_rgb = tensor_to_rgb(fake)[0]
        real_rgb = tensor_to_rgb(item["elasto"][None])[0]
        try:
            ssims.append(ssim_rgb(crop_box(fake_rgb, box), crop_box(real_rgb, box)))
        except ValueError:
            pass  # a box too small for SSIM's window
        mask = item["mask"][0].numpy() > 0.5
        if mask.any() and record.get("confirmed_score") is not None:
            result = propose(fake_rgb, info.mode, mask, organ=record.get("organ", Organ.BREAST), colormap=info.colormap)
            agree.append(result.score == record["confirmed_score"])
    return {
        "n": len(dataset),
        "l1": float(np.mean(l1s)),
        "ssim_box": float(np.mean(ssims)) if ssims else None,
        "score_agreement": float(np.mean(agree)) if agree else None,
        "n_scored": len(agree),
        "case_ids": list(dataset.names),
    }


def crops_to_box(info) -> bool:
    """Whether the model of this :class:`usegan.checkpoint.ModelInfo` was trained on box crops (the default)."""
    return bool((info.training.get("config") or {}).get("crop_to_box", True))


def evaluate_on_phantoms(checkpoint: str | Path, folder: str | Path, limit: int = 0) -> dict:
    """Summary of :func:`usegan.training.evaluate.evaluate_cases` on the first ``limit`` (0 = all) phantom cases."""
    from usegan.inference import VirtualElastographer
    from usegan.training.evaluate import case_folders, evaluate_cases

    engine = VirtualElastographer.from_checkpoint(checkpoint)
    report = evaluate_cases(engine, case_folders(folder, limit or None))
    summary = report.summary()
    return {"data": str(folder), **{k: summary.get(k) for k in PHANTOM_KEYS}}


def is_worse(candidate: dict, active: dict, max_l1_increase: float = 0.0) -> bool:
    """True when the candidate's validation L1 exceeds the active model's by more than ``max_l1_increase``."""
    return float(candidate["l1"]) > float(active["l1"]) + max_l1_increase
