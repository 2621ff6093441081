"""Image composition for the review screen: overlay with opacity, ROI outlines, display scaling."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from usegan.colormaps import coloured_mask
from usegan.imageio import to_rgb_uint8


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` gray or ``(H, W, 3|4)`` -> ``(H, W, 3)`` uint8."""
    return to_rgb_uint8(np.asarray(image))


def overlay(bmode: np.ndarray, elasto_rgb: np.ndarray, opacity: float) -> np.ndarray:
    """Blend the elastogram's coloured pixels over the B-mode: ``(1 - opacity) * bmode + opacity * elasto``.

    ``bmode`` (H, W) or (H, W, 3) uint8, ``elasto_rgb`` (H, W, 3) uint8 of the same size, ``opacity`` in [0, 1].
    Returns (H, W, 3) uint8; pixels outside the colour box show the B-mode unchanged.
    """
    if not 0.0 <= float(opacity) <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity!r}")
    base = as_rgb(bmode)
    colour = as_rgb(elasto_rgb)
    if base.shape != colour.shape:
        raise ValueError(f"B-mode {base.shape[:2]} and elastogram {colour.shape[:2]} must have the same size")
    blended = (1.0 - opacity) * base.astype(np.float32) + opacity * colour.astype(np.float32)
    out = np.where(coloured_mask(colour)[..., None], np.rint(blended), base)
    return out.astype(np.uint8)


def outline(image: np.ndarray, masks: dict[str, np.ndarray], colours: dict[str, str], width: int = 2) -> np.ndarray:
    """Draw the border of each mask onto a copy of ``image`` (for static views and the report)."""
    from scipy import ndimage

    out = as_rgb(image).copy()
    iterations = max(1, width)
    for role, mask in masks.items():
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            continue
        # Eroded on the mask's box and a margin wider than the erosion (the same edge as on the whole image, at the
        # cost of the box: a small ROI on a 1024 px reading copy).
        y0, y1 = max(0, rows[0] - iterations - 1), rows[-1] + iterations + 2
        x0, x1 = max(0, cols[0] - iterations - 1), cols[-1] + iterations + 2
        part = mask[y0:y1, x0:x1]
        edge = part & ~ndimage.binary_erosion(part, iterations=iterations)
        rgb = tuple(int(colours.get(role, "#ffffff").lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
        out[y0:y1, x0:x1][edge] = rgb
    return out


def display_scale(height: int, width: int, max_width: int, max_height: int | None = None) -> float:
    """Canvas pixels per image pixel so the image fits ``max_width`` (and ``max_height``); never above 4."""
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    scale = max_width / width
    if max_height is not None:
        scale = min(scale, max_height / height)
    return float(min(scale, 4.0))


def resized(image: np.ndarray, scale: float) -> Image.Image:
    """A PIL image scaled by ``scale`` (what the canvas shows behind the ROIs)."""
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)


def stamp(image: np.ndarray, text: str) -> np.ndarray:
    """Add a label strip (e.g. "VIRTUAL - model x") *under* the image, so a saved screenshot keeps it.

    A strip, not text over the pixels: the top rows of an elastogram hold the fat layer a reference ROI is drawn
    in, and the image's top edge stays aligned with the B-mode beside it. ``image``: ``(H, W)`` or ``(H, W, 3)``
    uint8; returns ``(H + strip, W, 3)`` uint8, the font shrunk until the text fits the width.
    """
    rgb = as_rgb(image)
    height, width = rgb.shape[:2]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    size = 11
    font = ImageFont.load_default(size=size)
    while size > 6 and probe.textlength(text, font=font) > width - 6:
        size -= 1
        font = ImageFont.load_default(size=size)
    strip = size + 6
    pil = Image.new("RGB", (width, height + strip), (0, 0, 0))
    pil.paste(Image.fromarray(rgb), (0, 0))
    ImageDraw.Draw(pil).text((3, height + 2), text, fill=(255, 255, 255), font=font)
    return np.asarray(pil)
