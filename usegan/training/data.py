"""Open a training folder (phantom or pairs layout) and split it into train / validation without leakage.

The model learns the elastogram *inside the elastography box*: each pair is cropped to its box and letterboxed to
the training size (:class:`BoxCropDataset`). Where a scanner puts its box is the operator's choice, not something a
B-mode image predicts, so asking the network to draw the box would only teach it a blurred average box; instead the
app generates a full-field virtual elastogram of the image (or of the region the user crops to).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from usegan.datasets import AugmentConfig, PairsDataset, PhantomDataset
from usegan.letterbox import Letterbox


class BoxCropDataset(Dataset):
    """Wraps a dataset built with ``size=None``: crops every item to its ``box`` and letterboxes it to ``size``.

    Padding is black in both images (-1) and outside the mask; the returned ``box`` is the letterbox's inner area.
    """

    def __init__(self, base: Dataset, size: int) -> None:
        self.base = base
        self.size = size

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict:
        item = self.base[index]
        height, width = item["bmode"].shape[-2:]
        x, y, w, h = (int(v) for v in item["box"].tolist())
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 - x0 < 8 or y1 - y0 < 8:  # degenerate box (e.g. rotated away): use the whole image
            x0, y0, x1, y1 = 0, 0, width, height
        fit = Letterbox.fit(y1 - y0, x1 - x0, self.size)

        def crop(t: torch.Tensor, fill: float) -> torch.Tensor:
            arr = t[:, y0:y1, x0:x1].permute(1, 2, 0).numpy()
            return torch.from_numpy(fit.to_model(np.ascontiguousarray(arr), fill=fill)).permute(2, 0, 1).contiguous()

        return {
            "bmode": crop(item["bmode"], -1.0),
            "elasto": crop(item["elasto"], -1.0),
            "mask": (crop(item["mask"], 0.0) > 0.5).float(),
            "box": torch.tensor([fit.pad_left, fit.pad_top, fit.inner_width, fit.inner_height], dtype=torch.int64),
            "name": item["name"],
        }


def open_dataset(root: str | Path, mode: str, size: int, augment: bool, crop_to_box: bool = True) -> Dataset:
    """``root/index.csv`` -> :class:`PhantomDataset`; ``root/bmode/`` -> :class:`PairsDataset` (mode is the
    department's own pairing); otherwise a ``ValueError`` naming the folder. ``crop_to_box`` wraps it in
    :class:`BoxCropDataset`."""
    root = Path(root)
    aug = AugmentConfig() if augment else None
    base_size = None if crop_to_box else size
    if (root / "index.csv").is_file():
        base = PhantomDataset(root, mode=mode, size=base_size, augment=aug)
    elif (root / "bmode").is_dir():
        base = PairsDataset(root, size=base_size, augment=aug)
    else:
        raise ValueError(
            f"{root}: not a training folder (expected index.csv from `usegan phantom`, or bmode/ + elasto/)"
        )
    return BoxCropDataset(base, size) if crop_to_box else base


def train_val_split(
    root: str | Path,
    mode: str,
    size: int,
    augment: bool,
    val_fraction: float,
    seed: int,
    val_root: str | Path | None = None,
    crop_to_box: bool = True,
) -> tuple[Dataset, Dataset]:
    """Training set (augmented) and validation set (never augmented). Without ``val_root`` a seeded random
    ``val_fraction`` of ``root`` is held out; the split depends only on the seed and the case count."""
    train_full = open_dataset(root, mode, size, augment, crop_to_box)
    if val_root:
        return train_full, open_dataset(val_root, mode, size, augment=False, crop_to_box=crop_to_box)
    n = len(train_full)
    n_val = max(1, round(n * val_fraction)) if n > 1 and val_fraction > 0 else 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    val_idx, train_idx = sorted(order[:n_val]), sorted(order[n_val:])
    plain = open_dataset(root, mode, size, augment=False, crop_to_box=crop_to_box)
    return Subset(train_full, train_idx), Subset(plain, val_idx)
