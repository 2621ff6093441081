"""Contact sheet: a grid of cases, one row each, showing B-mode | strain (SE) | shear-wave (SWE) side by side."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from usegan.phantom.case import PhantomCase

_CAPTION_PX = 14


def contact_sheet(cases: list[PhantomCase], gap: int = 4) -> np.ndarray:
    """``(rows * (S + caption + gap), 3 * S + 2 * gap, 3)`` uint8 image; each row is captioned with the lesion
    type and its ground-truth labels (Tsukuba, strain ratio, Emean)."""
    if not cases:
        raise ValueError("contact_sheet needs at least one case, got an empty list")
    size = cases[0].size
    row_h = size + _CAPTION_PX + gap
    sheet = Image.new("RGB", (3 * size + 2 * gap, row_h * len(cases)), (16, 16, 16))
    draw = ImageDraw.Draw(sheet)
    for i, case in enumerate(cases):
        if case.size != size:
            raise ValueError(f"all cases must share one size, got {case.size} and {size}")
        top = i * row_h
        tiles = (np.repeat(case.bmode[..., None], 3, axis=2), case.strain_rgb, case.swe_rgb)
        for j, tile in enumerate(tiles):
            sheet.paste(Image.fromarray(tile), (j * (size + gap), top + _CAPTION_PX))
        x, y, w, h = case.box
        for j in (1, 2):  # outline the elastography box on the two elastograms
            ox = j * (size + gap)
            draw.rectangle(
                (ox + x, top + _CAPTION_PX + y, ox + x + w - 1, top + _CAPTION_PX + y + h - 1), outline=(255, 255, 255)
            )
        lab = case.labels
        text = f"{case.params.lesion_type} ({case.params.shape})" if lab["has_lesion"] else "no lesion"
        if lab["has_lesion"]:
            text += f"  Tsukuba {lab['tsukuba']}{' BGR' if lab['bgr'] else ''}  SR {lab['strain_ratio']:.1f}"
            text += f"  Emean {lab['emean_kpa']:.0f} kPa"
        draw.text((2, top + 1), text, fill=(230, 230, 230))
    return np.asarray(sheet)
