"""Real (measured) elastograms into the archive: a bundled sample's truth, or a scanner's elastogram upload."""

from __future__ import annotations

import numpy as np

from usegan.screencrop import CropBox
from usegan.vocab import Mode


def attach_sample_truth(store, case_id: str, sample, crop: CropBox, *, user: str) -> list[str]:
    """Attach a sample's true strain / SWE images (cropped like its B-mode) as real elastograms; returns their ids."""
    from usegan.imageio import load_image

    modes = sample.meta.get("modes") or {}
    ids = []
    for mode in Mode:
        path = sample.folder / f"{mode}.png"
        if not path.is_file():
            continue
        rgb = np.ascontiguousarray(crop.apply(np.asarray(load_image(path))[..., :3]), dtype=np.uint8)
        info = modes.get(mode) or {}
        scale = {k: info[k] for k in ("vmin", "vmax", "unit") if k in info} or None
        ids.append(
            store.attach_real_elastogram(
                case_id, rgb, mode, "phantom truth (simulated)", created_by=user, colour_scale=scale
            )
        )
    return ids
