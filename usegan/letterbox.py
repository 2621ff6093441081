"""Geometry between an image's own pixels and the model's square input, kept so results map back exactly.

A :class:`Letterbox` scales an ``(H, W)`` image uniformly to fit ``size x size`` and pads the rest (no distortion
of anatomy), and records the transform so that ROIs drawn on either side and generated images map back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Letterbox:
    src_height: int  # original image height in pixels
    src_width: int  # original image width in pixels
    size: int  # model input side (square)
    scale: float  # model pixels per source pixel
    pad_top: int  # rows of padding above the scaled image
    pad_left: int  # columns of padding left of the scaled image
    inner_height: int  # rows the scaled image occupies
    inner_width: int  # columns the scaled image occupies

    @classmethod
    def fit(cls, src_height: int, src_width: int, size: int) -> Letterbox:
        if src_height < 1 or src_width < 1:
            raise ValueError(f"source size must be positive, got {src_width}x{src_height}")
        if size < 8:
            raise ValueError(f"model size must be at least 8, got {size}")
        scale = size / max(src_height, src_width)
        inner_h = max(1, min(size, round(src_height * scale)))
        inner_w = max(1, min(size, round(src_width * scale)))
        return cls(src_height, src_width, size, scale, (size - inner_h) // 2, (size - inner_w) // 2, inner_h, inner_w)

    def to_model(self, image: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """``(H, W)`` or ``(H, W, C)`` source image -> ``(size, size[, C])`` letterboxed, same dtype family."""
        if image.shape[:2] != (self.src_height, self.src_width):
            raise ValueError(
                f"image is {image.shape[1]}x{image.shape[0]}, letterbox expects {self.src_width}x{self.src_height}"
            )
        resized = _resize(image, self.inner_height, self.inner_width)
        out = np.full((self.size, self.size) + image.shape[2:], fill, dtype=resized.dtype)
        out[self.pad_top : self.pad_top + self.inner_height, self.pad_left : self.pad_left + self.inner_width] = resized
        return out

    def to_source(self, image: np.ndarray) -> np.ndarray:
        """``(size, size[, C])`` model-space image -> ``(H, W[, C])`` in the source geometry (padding dropped)."""
        if image.shape[:2] != (self.size, self.size):
            raise ValueError(f"image is {image.shape[1]}x{image.shape[0]}, expected {self.size}x{self.size}")
        inner = image[self.pad_top : self.pad_top + self.inner_height, self.pad_left : self.pad_left + self.inner_width]
        return _resize(inner, self.src_height, self.src_width)

    def points_to_model(self, xy: np.ndarray) -> np.ndarray:
        """Source pixel coordinates ``(N, 2)`` as (x, y) -> model coordinates."""
        xy = np.asarray(xy, dtype=np.float64)
        sx = self.inner_width / self.src_width
        sy = self.inner_height / self.src_height
        return np.stack([xy[..., 0] * sx + self.pad_left, xy[..., 1] * sy + self.pad_top], -1)

    def points_to_source(self, xy: np.ndarray) -> np.ndarray:
        """Model pixel coordinates ``(N, 2)`` as (x, y) -> source coordinates (inverse of ``points_to_model``)."""
        xy = np.asarray(xy, dtype=np.float64)
        sx = self.inner_width / self.src_width
        sy = self.inner_height / self.src_height
        return np.stack([(xy[..., 0] - self.pad_left) / sx, (xy[..., 1] - self.pad_top) / sy], -1)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize with PIL (bilinear for float/gray, per channel), keeping dtype."""
    if image.shape[:2] == (height, width):
        return image.copy()
    if image.ndim == 2:
        out = Image.fromarray(image.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BILINEAR)
        arr = np.asarray(out)
        if np.issubdtype(image.dtype, np.integer):
            info = np.iinfo(image.dtype)
            return np.clip(np.rint(arr), info.min, info.max).astype(image.dtype)
        return arr.astype(image.dtype, copy=False)
    channels = [_resize(image[..., c], height, width) for c in range(image.shape[2])]
    return np.stack(channels, axis=-1)
