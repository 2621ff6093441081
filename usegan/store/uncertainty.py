"""The model's per-pixel uncertainty map, kept with a generation as a 16-bit PNG in the image store.

A model with an uncertainty head predicts, for every pixel of the virtual elastogram, the standard deviation of
its strain / kPa value (:attr:`usegan.inference.Elastogram.uncertainty`, same geometry as the image). The map is
quantised to 65 535 steps of its own maximum (the step is stored with the generation), so a value is kept to
within half a step: 1/131 070 of the largest SD of the image, far below anything a reading or a statistic resolves.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

LEVELS = 65_535  # 16-bit PNG


def encode_uncertainty(sd: np.ndarray) -> tuple[bytes, float]:
    """``(H, W)`` float SD >= 0 -> (16-bit gray PNG bytes, step): ``sd ~= counts * step``."""
    arr = np.asarray(sd, dtype=np.float32)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"an uncertainty map is (H, W), got shape {arr.shape}")
    if not np.isfinite(arr).all() or float(arr.min()) < 0:
        bad = int((~np.isfinite(arr)).sum() + (np.nan_to_num(arr, nan=0.0) < 0).sum())
        raise ValueError(f"an uncertainty map holds SDs >= 0: {bad} pixels are negative or not finite")
    top = float(arr.max())
    step = top / LEVELS if top > 0 else 1.0
    counts = np.rint(arr / step).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(counts).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue(), step


def decode_uncertainty(data: bytes, step: float) -> np.ndarray:
    """The PNG bytes and step of :func:`encode_uncertainty` -> ``(H, W)`` float32 SD."""
    if not float(step) > 0:
        raise ValueError(f"an uncertainty step must be positive, got {step!r}")
    image = Image.open(io.BytesIO(data))
    if image.mode not in ("I;16", "I"):
        raise ValueError(f"an uncertainty map is a 16-bit gray PNG, got mode {image.mode}")
    return np.asarray(image).astype(np.float32) * np.float32(step)
