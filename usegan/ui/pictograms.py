"""Pictograms of the Tsukuba (breast) and Rago (thyroid) strain scores, drawn here from the scores' wording.

Each score 1-5 becomes a small picture in the strain colours of :mod:`usegan.colormaps` (green = strains like the
surroundings, blue = hard): a lesion outline in tissue, filled the way the score describes it (Tsukuba [Itoh06],
Rago [Rago07]; wording in :mod:`usegan.services.templates`). They are drawn by code, not copied from a paper.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from usegan.colormaps import strain_colormap

SIZE = (104, 78)  # width, height of one pictogram in pixels
_SUPER = 3  # drawn at 3x, then downsampled: smooth edges


def _colour(strain: float) -> tuple[int, int, int]:
    red, green, blue = (int(v) for v in strain_colormap().apply(np.array([strain]))[0])
    return red, green, blue


SOFT, INTERMEDIATE, HARD = _colour(0.62), _colour(0.5), _colour(0.08)
OUTLINE = (255, 255, 255)

# score -> (fill of the lesion, pattern) per system; patterns: "even", "mosaic", "rim", "whole", "halo", "behind"
PATTERNS = {
    "tsukuba": {1: "even", 2: "mosaic", 3: "rim", 4: "whole", 5: "halo"},
    "rago": {1: "even", 2: "mosaic", 3: "rim", 4: "whole", 5: "behind"},
}
CAPTIONS = {
    "tsukuba": {1: "even strain", 2: "mosaic", 3: "centre hard", 4: "whole hard", 5: "+ surroundings"},
    "rago": {1: "elastic", 2: "mostly elastic", 3: "periphery only", 4: "not elastic", 5: "+ behind"},
}


def pictogram(system: str, score: int) -> Image.Image:
    """One pictogram (RGB, :data:`SIZE`) of ``score`` 1..5 on ``system`` ("tsukuba" or "rago")."""
    if system not in PATTERNS:
        raise ValueError(f"pictograms exist for {sorted(PATTERNS)}, got {system!r}")
    if score not in PATTERNS[system]:
        raise ValueError(f"score must be 1..5, got {score!r}")
    pattern = PATTERNS[system][score]
    w, h = SIZE[0] * _SUPER, SIZE[1] * _SUPER
    image = Image.new("RGB", (w, h), INTERMEDIATE)
    draw = ImageDraw.Draw(image)
    # tissue: soft and intermediate bands, as a strain image of normal tissue looks
    for i, y in enumerate(range(0, h, h // 6)):
        if i % 2:
            draw.rectangle([0, y, w, y + h // 12], fill=SOFT)
    lesion = [w * 0.28, h * 0.28, w * 0.72, h * 0.68]
    if pattern == "halo":
        draw.ellipse([w * 0.14, h * 0.12, w * 0.86, h * 0.86], fill=HARD)
    if pattern == "behind":
        draw.rectangle([lesion[0], (lesion[1] + lesion[3]) / 2, lesion[2], h], fill=HARD)
    fill = HARD if pattern in ("whole", "halo", "behind") else INTERMEDIATE
    draw.ellipse(lesion, fill=fill)
    if pattern == "rim":
        cx, cy = (lesion[0] + lesion[2]) / 2, (lesion[1] + lesion[3]) / 2
        rx, ry = (lesion[2] - lesion[0]) * 0.3, (lesion[3] - lesion[1]) * 0.3
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=HARD)
    if pattern == "mosaic":
        for fx, fy in ((0.38, 0.4), (0.55, 0.36), (0.47, 0.55), (0.62, 0.53)):
            r = w * 0.035
            draw.ellipse([w * fx - r, h * fy - r, w * fx + r, h * fy + r], fill=HARD)
    draw.ellipse(lesion, outline=OUTLINE, width=2 * _SUPER)
    return image.resize(SIZE, Image.Resampling.LANCZOS)


@lru_cache(maxsize=4)
def strip(system: str) -> Image.Image:
    """The five pictograms of ``system`` side by side, each with its number and a two-word caption underneath."""
    gap, text_h = 8, 30
    out = Image.new("RGB", (5 * SIZE[0] + 4 * gap, SIZE[1] + text_h), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=12)
    for i, score in enumerate(range(1, 6)):
        x = i * (SIZE[0] + gap)
        out.paste(pictogram(system, score), (x, 0))
        for line, text in enumerate((f"{score}", CAPTIONS[system][score])):
            width = draw.textlength(text, font=font)
            draw.text((x + (SIZE[0] - width) / 2, SIZE[1] + 2 + 14 * line), text, fill=(40, 40, 40), font=font)
    return out
