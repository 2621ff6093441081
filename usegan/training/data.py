"""Open a training folder (phantom or pairs layout) and split it into train / validation without leakage.

The model learns the elastogram *inside the elastography box*: each pair is cropped to its box and scaled as
inference scales an image (:class:`BoxCropDataset`). Where a scanner puts its box is the operator's choice, not
something a B-mode image predicts, so asking the network to draw the box would only teach it a blurred average
box; instead the
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
    """Wraps a dataset built with ``size=None``: crops every item to its ``box`` and scales it so the box's longer
    side is ``size`` (what inference does to an image: :class:`usegan.letterbox.Letterbox`).

    Without ``patch``: the box is letterboxed to ``size x size``. With ``patch`` (training): the scaled box (scale
    jittered by ``scale_jitter``, a factor drawn log-uniformly in ``[1 / (1 + j), 1 + j]``) is cut to a random
    ``patch x patch`` window at native resolution, so a fully convolutional generator learns at the scale it runs
    at for a quarter of the cost. With probability ``lesion_focus`` a patch is placed so that it holds a random
    lesion pixel (when the item has a lesion mask): a uniformly placed 128 px window cuts or misses the lesion
    often, and the lesion is what a reading scores. Wherever the output runs past the box, the B-mode is black
    (-1), the elastogram black and the target position NaN: fill, which no loss learns from. The returned ``box``
    is the content area.
    """

    def __init__(
        self,
        base: Dataset,
        size: int,
        patch: int | None = None,
        scale_jitter: float = 0.0,
        lesion_focus: float = 0.0,
        lesion_top: float = 0.0,
    ) -> None:
        if patch is not None and not 8 <= patch <= size:
            raise ValueError(f"patch must be in [8, size={size}], got {patch!r}")
        if scale_jitter < 0:
            raise ValueError(f"scale_jitter must be >= 0, got {scale_jitter!r}")
        for name, value in (("lesion_focus", lesion_focus), ("lesion_top", lesion_top)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {value!r}")
        self.base = base
        self.size = size
        self.patch = patch
        self.scale_jitter = scale_jitter
        self.lesion_focus = lesion_focus
        self.lesion_top = lesion_top

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
        cut = False
        if self.lesion_top > 0 and torch.rand(()).item() < self.lesion_top:  # no draw when off: old runs reproduce
            drawn = (x0, y0, x1, y1)
            x0, y0, x1, y1 = cut_above_lesion(item["mask"][0] > 0.5, drawn, torch.rand(()).item())
            cut = (x0, y0, x1, y1) != drawn
        crop = {k: item[k][:, y0:y1, x0:x1] for k in ("bmode", "elasto", "position", "mask")}
        if self.patch is None:
            fit = Letterbox.fit(y1 - y0, x1 - x0, self.size)
            out = {k: _letterbox(v, fit, FILL[k]) for k, v in crop.items()}
            box = [fit.pad_left, fit.pad_top, fit.inner_width, fit.inner_height]
        else:
            out, box = self._patch(crop, pin_top=cut)
        out["mask"] = (out["mask"] > 0.5).float()
        return {**out, "box": torch.tensor(box, dtype=torch.int64), "name": item["name"]}

    def _patch(self, crop: dict, pin_top: bool = False) -> tuple[dict, list[int]]:
        """Scale the box (longer side ``size`` x jitter), then a random ``patch`` window, fill where it runs out;
        ``pin_top``: the window starts at the box's top row (a box cut above its lesion keeps the lesion at the top
        of the frame, with no fill above it however small the scaled box)."""
        h, w = crop["bmode"].shape[-2:]
        jitter = float(np.exp(np.log1p(self.scale_jitter) * (2 * torch.rand(()).item() - 1)))
        scale = self.size / max(h, w) * jitter
        sh, sw = max(8, round(h * scale)), max(8, round(w * scale))
        scaled = {k: _resize(v, sh, sw, nearest=k in ("elasto", "position")) for k, v in crop.items()}
        p = self.patch
        # window origin in scaled coordinates; negative = fill before the content
        top_range, left_range = (min(0, sh - p), max(0, sh - p)), (min(0, sw - p), max(0, sw - p))
        lesion = torch.nonzero(scaled["mask"][0] > 0.5)
        if len(lesion) and torch.rand(()).item() < self.lesion_focus:
            cy, cx = lesion[int(torch.randint(len(lesion), ()).item())].tolist()
            top_range = (max(top_range[0], cy - p + 1), min(top_range[1], cy))
            left_range = (max(left_range[0], cx - p + 1), min(left_range[1], cx))
        if pin_top:
            top_range = (0, 0)
        top = int(torch.randint(top_range[0], top_range[1] + 1, ()).item())
        left = int(torch.randint(left_range[0], left_range[1] + 1, ()).item())
        out = {}
        for k, v in scaled.items():
            canvas = torch.full((v.shape[0], p, p), FILL[k], dtype=v.dtype)
            sy0, sx0 = max(0, top), max(0, left)
            sy1, sx1 = min(sh, top + p), min(sw, left + p)
            canvas[:, sy0 - top : sy1 - top, sx0 - left : sx1 - left] = v[:, sy0:sy1, sx0:sx1]
            out[k] = canvas
        box = [max(0, -left), max(0, -top), min(sw, left + p) - max(0, left), min(sh, top + p) - max(0, top)]
        return out, box


def cut_above_lesion(
    mask: torch.Tensor, box: tuple[int, int, int, int], draw: float, max_margin: float = 0.1
) -> tuple[int, int, int, int]:
    """The box ``(x0, y0, x1, y1)`` cut to start a margin above the lesion of ``mask`` (``(H, W)`` bool, the
    lesion inside the box) and narrowed around it to about square: the lesion at the top of the frame, its depth
    below unchanged. The margin is ``draw`` (in [0, 1)) x ``max_margin`` of the box's height. The box is returned
    unchanged when it holds no lesion pixel or the cut would leave less than twice the lesion's height."""
    x0, y0, x1, y1 = box
    inside = mask[y0:y1, x0:x1]
    rows, cols = torch.nonzero(inside.any(dim=1))[:, 0], torch.nonzero(inside.any(dim=0))[:, 0]
    if rows.numel() == 0:
        return box
    top, bottom = y0 + int(rows[0]), y0 + int(rows[-1]) + 1
    left, right = x0 + int(cols[0]), x0 + int(cols[-1]) + 1
    margin = round(draw * max_margin * (y1 - y0))
    new_y0 = max(y0, top - margin)
    if y1 - new_y0 < max(16, 2 * (bottom - top)):
        return box
    width = min(x1 - x0, max(y1 - new_y0, right - left + 2 * margin))
    new_x0 = min(max(x0, round((left + right - width) / 2)), x1 - width)
    return new_x0, new_y0, new_x0 + width, y1


FILL = {"bmode": -1.0, "elasto": -1.0, "position": float("nan"), "mask": 0.0}


def _letterbox(t: torch.Tensor, fit: Letterbox, fill: float) -> torch.Tensor:
    arr = t.permute(1, 2, 0).numpy()
    return torch.from_numpy(fit.to_model(np.ascontiguousarray(arr), fill=fill)).permute(2, 0, 1).contiguous()


def _resize(t: torch.Tensor, height: int, width: int, nearest: bool) -> torch.Tensor:
    """``(C, H, W)`` -> ``(C, height, width)``: bilinear for images, nearest for colour-map pixels and positions
    (blending two map colours would make a colour that is not on the map)."""
    if t.shape[-2:] == (height, width):
        return t
    mode = "nearest" if nearest else "bilinear"
    kwargs = {} if nearest else {"align_corners": False, "antialias": True}
    return torch.nn.functional.interpolate(t[None].float(), size=(height, width), mode=mode, **kwargs)[0]


def open_dataset(
    root: str | Path,
    mode: str,
    size: int,
    augment: bool | AugmentConfig,
    crop_to_box: bool = True,
    patch: int | None = None,
    scale_jitter: float = 0.0,
    lesion_focus: float = 0.0,
    lesion_top: float = 0.0,
) -> Dataset:
    """``root/index.csv`` -> :class:`PhantomDataset`; ``root/bmode/`` -> :class:`PairsDataset` (mode is the
    department's own pairing); otherwise a ``ValueError`` naming the folder. ``crop_to_box`` wraps it in
    :class:`BoxCropDataset` (``patch`` / ``scale_jitter`` / ``lesion_focus`` / ``lesion_top``: see there; only for the
    augmented training set). ``augment``: an :class:`AugmentConfig`, True for its defaults, False for none."""
    root = Path(root)
    aug = augment if isinstance(augment, AugmentConfig) else AugmentConfig() if augment else None
    base_size = None if crop_to_box else size
    if (root / "index.csv").is_file():
        base = PhantomDataset(root, mode=mode, size=base_size, augment=aug)
    elif (root / "bmode").is_dir():
        base = PairsDataset(root, size=base_size, augment=aug)
    else:
        raise ValueError(
            f"{root}: not a training folder (expected index.csv from `usegan phantom`, or bmode/ + elasto/)"
        )
    if not crop_to_box:
        return base
    if aug is None:
        return BoxCropDataset(base, size)
    return BoxCropDataset(base, size, patch, scale_jitter, lesion_focus, lesion_top)


def train_val_split(
    root: str | Path,
    mode: str,
    size: int,
    augment: bool | AugmentConfig,
    val_fraction: float,
    seed: int,
    val_root: str | Path | None = None,
    crop_to_box: bool = True,
    patch: int | None = None,
    scale_jitter: float = 0.0,
    lesion_focus: float = 0.0,
    lesion_top: float = 0.0,
) -> tuple[Dataset, Dataset]:
    """Training set (augmented) and validation set (never augmented). Without ``val_root`` a seeded random
    ``val_fraction`` of ``root`` is held out; the split depends only on the seed and the case count. Validation
    items are whole boxes letterboxed to ``size``, as inference sees them."""
    train_full = open_dataset(root, mode, size, augment, crop_to_box, patch, scale_jitter, lesion_focus, lesion_top)
    if val_root:
        return train_full, open_dataset(val_root, mode, size, augment=False, crop_to_box=crop_to_box)
    n = len(train_full)
    n_val = max(1, round(n * val_fraction)) if n > 1 and val_fraction > 0 else 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    val_idx, train_idx = sorted(order[:n_val]), sorted(order[n_val:])
    plain = open_dataset(root, mode, size, augment=False, crop_to_box=crop_to_box)
    return Subset(train_full, train_idx), Subset(plain, val_idx)
