"""Cine for multi-frame cases: every frame of the case's original DICOM, cropped and sized like its B-mode.

The case stores one frame (the one read at intake, ``dicom_uids["frame"]``); the original file keeps them all.
:func:`cine_frames` decodes them once (the page caches the result), :func:`cine_gif` makes the looping clip a
browser plays by itself. Frames are numbered from 1 wherever a reader sees them.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from usegan.downscale import reading_copy
from usegan.imageio import to_gray
from usegan.screencrop import CropBox

MAX_FRAMES = 120  # longer clips are cut (a cine loop on a console is a few seconds)


def frame_count(case) -> int:
    """How many frames the case's original file holds (1 for a plain image or a single-frame DICOM)."""
    from usegan.preprocess import is_dicom

    original = case.original_bytes()
    if not original or not is_dicom(original):
        return 1
    from usegan.dicomio import read_dicom

    return int(read_dicom(original, frame=0).n_frames)


def cine_frames(case, max_frames: int = MAX_FRAMES) -> list[np.ndarray]:
    """Frames 1..n of the case's original DICOM as ``(h, w)`` uint8, cropped and downscaled as its B-mode was.

    Raises ``ValueError`` when the case has no multi-frame original.
    """
    from usegan.dicomio import read_dicom

    n = frame_count(case)
    if n < 2:
        raise ValueError(f"case {case.case_id} has a single frame: there is no cine to play")
    original = case.original_bytes()
    crop = CropBox(*case.crop) if case.crop else None
    frames = []
    for index in range(min(n, max_frames)):
        pixels = read_dicom(original, frame=index).pixels
        if crop is not None:
            pixels = crop.validate(pixels.shape[0], pixels.shape[1], "frame").apply(pixels)
        gray = np.rint(to_gray(pixels) * 255).astype(np.uint8)
        small, _ = reading_copy(gray, max(case.height, case.width))
        frames.append(small)
    return frames


def cine_gif(frames: list[np.ndarray], fps: float = 10.0) -> bytes:
    """A looping animated GIF of ``frames`` at ``fps`` frames per second."""
    if not frames:
        raise ValueError("no frames to play")
    if not 0 < fps <= 60:
        raise ValueError(f"fps must be in (0, 60], got {fps!r}")
    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return buffer.getvalue()
