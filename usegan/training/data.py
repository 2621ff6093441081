"""Open a training folder (phantom or pairs layout) and split it into train / validation without leakage."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset, Subset

from usegan.datasets import AugmentConfig, PairsDataset, PhantomDataset


def open_dataset(root: str | Path, mode: str, size: int, augment: bool) -> Dataset:
    """``root/index.csv`` -> :class:`PhantomDataset`; ``root/bmode/`` -> :class:`PairsDataset` (mode is the
    department's own pairing); otherwise a ``ValueError`` naming the folder."""
    root = Path(root)
    aug = AugmentConfig() if augment else None
    if (root / "index.csv").is_file():
        return PhantomDataset(root, mode=mode, size=size, augment=aug)
    if (root / "bmode").is_dir():
        return PairsDataset(root, size=size, augment=aug)
    raise ValueError(f"{root}: not a training folder (expected index.csv from `usegan phantom`, or bmode/ + elasto/)")


def train_val_split(
    root: str | Path,
    mode: str,
    size: int,
    augment: bool,
    val_fraction: float,
    seed: int,
    val_root: str | Path | None = None,
) -> tuple[Dataset, Dataset]:
    """Training set (augmented) and validation set (never augmented). Without ``val_root`` a seeded random
    ``val_fraction`` of ``root`` is held out; the split depends only on the seed and the case count."""
    train_full = open_dataset(root, mode, size, augment)
    if val_root:
        return train_full, open_dataset(val_root, mode, size, augment=False)
    n = len(train_full)
    n_val = max(1, round(n * val_fraction)) if n > 1 and val_fraction > 0 else 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    val_idx, train_idx = sorted(order[:n_val]), sorted(order[n_val:])
    plain = open_dataset(root, mode, size, augment=False)
    return Subset(train_full, train_idx), Subset(plain, val_idx)
