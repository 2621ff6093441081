"""Find the image area of a scanner screen capture: a suggestion the user can accept or override.

A screen capture holds the B-mode image plus dark borders, text, rulers, a colour or gray bar and a logo. What
sets the image apart is *speckle*: a gray, non-saturated texture of intermediate brightness with high local
variance that fills a large connected area. The method (:func:`suggest_crop`), at a working resolution of at
most ``work_side`` pixels:

1. gray ``g`` and chroma ``c = max(R,G,B) - min(R,G,B)`` in [0, 1]; at *full* resolution, after a 3x3 median
   (erases JPEG ringing and 1-px strokes), a pixel is "flat" when its 3x3 standard deviation is under
   ``flat_std`` (UI background, bars, logos, thin text; strokes are only resolved at full resolution);
2. at the working resolution, in a ``k x k`` window (``k ~ min side / 60``): local standard deviation of ``g``,
   mean chroma, and the share of flat pixels;
3. speckle map = std > ``min_std`` and chroma < ``max_chroma`` and flat share < ``max_flat_fraction``:
   gray and colour bars fail the first two, text, tick marks and logos (strokes on a plain background) the
   third; speckle is never flat;
4. closing (bridge speckle gaps), hole filling (anechoic cysts, shadows), opening with a ``2k`` square
   (drop thin strokes glued to the image), then the largest connected component together with the components
   stacked above or below it in the same columns (an anechoic band or shadow across the whole width splits one
   image area in two: a 640x480 capture with such a band was cut to its upper half before);
5. its bounding box, trimmed: leading/trailing rows and columns whose share of component pixels is under
   ``trim_fraction`` of the fullest row/column are dropped (stray bits attached at a corner);
6. confidence = share of all cleaned speckle pixels inside the box x min(1, fill / 0.6), where fill is the
   share of the box the component covers (a sector image fills ~0.67 of its box, a linear one ~1).

Measured on synthetic captures (tests/test_screencrop.py): IoU with the true area 0.95-1.0 for linear and
sector speckle images and for phantom B-modes shown enlarged (smooth, low-contrast texture: this is why
``flat_std`` and ``min_std`` are low); 0.98-1.0 after JPEG compression (quality 70-95). Known limits: text
closer than ~k working pixels to the image edge can be included (JPEG ringing makes this likelier); the sharp
ends of a sector's arc are lost (a few pixels); of two large textured panels (a dual-view screen) only the
larger is returned by :func:`suggest_crop` (:func:`suggest_dual_crop` returns both).

The box is in the input's pixel coordinates and is only a suggestion: callers pass their own ``CropBox`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.colormaps import COLOUR_CHROMA


class InvalidCropError(ValueError):
    """A crop box that is empty or does not lie inside the image."""


@dataclass(frozen=True)
class CropBox:
    """An axis-aligned box in source pixels: columns ``x .. x+w-1``, rows ``y .. y+h-1``."""

    x: int  # left column (0-based)
    y: int  # top row (0-based)
    w: int  # width in pixels
    h: int  # height in pixels

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.h

    def validate(self, height: int, width: int, name: str = "image") -> CropBox:
        """Return ``self`` when it is non-empty and inside a ``height x width`` image, else raise."""
        if self.w <= 0 or self.h <= 0:
            raise InvalidCropError(f"{name}: crop {self} has zero size ({self.w}x{self.h}); pick a larger area")
        if self.x < 0 or self.y < 0 or self.right > width or self.bottom > height:
            raise InvalidCropError(
                f"{name}: crop {self} (columns {self.x}..{self.right - 1}, rows {self.y}..{self.bottom - 1}) "
                f"is not inside the {width}x{height} image"
            )
        return self

    def clip(self, height: int, width: int) -> CropBox | None:
        """The part of the box inside a ``height x width`` image, or ``None`` when nothing is left."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.right), min(height, self.bottom)
        return CropBox(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None

    def iou(self, other: CropBox) -> float:
        """Intersection over union of two boxes, in [0, 1]."""
        iw = max(0, min(self.right, other.right) - max(self.x, other.x))
        ih = max(0, min(self.bottom, other.bottom) - max(self.y, other.y))
        inter = iw * ih
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The cropped view ``image[y:y+h, x:x+w]`` (no copy)."""
        return image[self.y : self.bottom, self.x : self.right]

    @classmethod
    def full(cls, height: int, width: int) -> CropBox:
        """The whole image."""
        return cls(0, 0, width, height)


@dataclass(frozen=True)
class CropSuggestion:
    """What :func:`suggest_crop` proposes, with the numbers behind it."""

    box: CropBox  # suggested image area in source pixels (the whole image when nothing was found)
    confidence: float  # 0 (no idea) .. 1 (one clean speckle region filling its box)
    captured: float  # share of all speckle-like pixels that lie inside the box
    fill: float  # share of the box covered by the speckle region


@dataclass(frozen=True)
class CropParams:
    """Thresholds of the speckle map; defaults suit 8-bit B-mode log-compressed to 40-70 dB."""

    work_side: int = 512  # the longer side is reduced to at most this many pixels (block mean)
    min_std: float = 0.02  # local gray standard deviation above which a window looks textured
    max_chroma: float = 0.12  # mean chroma above which a window is colour (bars, logos, Doppler)
    flat_std: float = 0.01  # 3x3 standard deviation under which a pixel is flat (UI background, bar, logo)
    max_flat_fraction: float = 0.35  # windows with more flat pixels are strokes on a plain background (text)
    trim_fraction: float = 0.05  # rows/columns with less of the region than this x the fullest are trimmed


def suggest_crop(image: np.ndarray, params: CropParams = CropParams()) -> CropSuggestion:
    """Suggest the ultrasound image area of a screen capture.

    ``image``: ``(H, W)`` gray or ``(H, W, 3|4)`` colour, any dtype accepted by :func:`usegan.imageio.to_float01`.
    Returns a :class:`CropSuggestion`; when no speckle region is found the box is the whole image, confidence 0.
    """
    from scipy import ndimage

    from usegan.imageio import to_float01

    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {arr.shape}")
    height, width = arr.shape[:2]
    whole = CropSuggestion(CropBox.full(height, width), 0.0, 0.0, 0.0)
    rgb = to_float01(arr)
    if rgb.ndim == 3 and rgb.shape[2] == 4:
        rgb = rgb[..., :3] * rgb[..., 3:4]
    if rgb.ndim == 3 and rgb.shape[2] == 1:
        rgb = rgb[..., 0]
    full_gray = rgb[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if rgb.ndim == 3 else rgb
    # flatness is judged at full resolution, where text strokes are still strokes on a plain background
    # a 3x3 median first: it erases JPEG ringing and 1-px strokes (text, ticks) but keeps speckle texture
    denoised = ndimage.median_filter(full_gray, 3, mode="reflect")
    fine_mean = ndimage.uniform_filter(denoised, 3, mode="reflect")
    fine_var = ndimage.uniform_filter(denoised * denoised, 3, mode="reflect") - fine_mean * fine_mean
    factor = max(1, int(np.ceil(max(height, width) / params.work_side)))
    flat_share = _block_mean((fine_var < params.flat_std**2).astype(np.float32), factor)
    small = _block_mean(rgb, factor)
    if small.ndim == 3:
        gray = small[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        chroma = small[..., :3].max(axis=2) - small[..., :3].min(axis=2)
    else:
        gray, chroma = small, np.zeros_like(small)
    k = max(3, int(round(min(gray.shape) / 60)) | 1)
    if min(gray.shape) < 2 * k + 1:
        return whole

    # 2-3: speckle map from local statistics
    mean = ndimage.uniform_filter(gray, k, mode="reflect")
    var = ndimage.uniform_filter(gray * gray, k, mode="reflect") - mean * mean
    std = np.sqrt(np.clip(var, 0.0, None))
    mean_chroma = ndimage.uniform_filter(chroma, k, mode="reflect")
    flat = ndimage.uniform_filter(flat_share, k, mode="reflect")
    speckle = (std > params.min_std) & (mean_chroma < params.max_chroma) & (flat < params.max_flat_fraction)

    # 4: clean up and keep the largest region
    square = np.ones((k, k), dtype=bool)
    region = ndimage.binary_closing(speckle, square, border_value=0)
    filled = ndimage.binary_fill_holes(region)
    region = ndimage.binary_opening(filled, np.ones((2 * k, 2 * k), dtype=bool))
    labels, n = ndimage.label(region)
    if n == 0:
        return whole
    component = _stacked_components(labels, n)

    # 5: bounding box trimmed by row/column profiles
    rows = _trimmed_span(component.sum(axis=1), params.trim_fraction)
    cols = _trimmed_span(component.sum(axis=0), params.trim_fraction)
    if rows is None or cols is None:
        return whole
    (r0, r1), (c0, c1) = rows, cols
    inside = component[r0:r1, c0:c1]
    box = CropBox(c0 * factor, r0 * factor, (c1 - c0) * factor, (r1 - r0) * factor).clip(height, width)
    if box is None:
        return whole

    # 6: confidence
    cleaned_total = float(region.sum())
    captured = float(region[r0:r1, c0:c1].sum()) / cleaned_total if cleaned_total else 0.0
    fill = float(inside.mean()) if inside.size else 0.0
    confidence = float(np.clip(captured * min(1.0, fill / 0.6), 0.0, 1.0))
    return CropSuggestion(box, round(confidence, 3), round(captured, 3), round(fill, 3))


def _stacked_components(labels: np.ndarray, n: int, min_share: float = 0.1, min_overlap: float = 0.7) -> np.ndarray:
    """The largest component plus every component stacked above or below it (step 4b).

    An anechoic band or a shadow across the whole width splits one image area into an upper and a lower part;
    both lie in the same columns, so a component holding at least ``min_share`` of the largest one's pixels whose
    column span overlaps the largest's by ``min_overlap`` (of the narrower span) belongs to the same image.
    Side-by-side panels (a dual display) overlap in rows, not columns, and stay apart.
    """
    sizes = np.bincount(labels.ravel())[1:]
    order = np.argsort(sizes)[::-1]
    largest = int(order[0]) + 1
    component = labels == largest
    cols = np.flatnonzero(component.any(axis=0))
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    for index in order[1:]:
        if sizes[index] < min_share * sizes[order[0]]:
            break
        other = labels == (int(index) + 1)
        ocols = np.flatnonzero(other.any(axis=0))
        o0, o1 = int(ocols[0]), int(ocols[-1]) + 1
        overlap = max(0, min(c1, o1) - max(c0, o0))
        if overlap >= min_overlap * min(c1 - c0, o1 - o0):
            component |= other
    return component


def suggest_dual_crop(image: np.ndarray, params: CropParams = CropParams()) -> tuple[CropBox, CropBox] | None:
    """The two panels of a dual-display capture (B-mode beside its elastogram), ``(bmode, elastogram)``, or None.

    The B-mode panel is :func:`suggest_crop`'s image area; the elastogram panel is the box of the same size in
    the same rows, on the other side, whose pixels most differ from the screen background (colour or texture):
    scanners draw the two panels with the same geometry. ``None`` when no such partner fills at least 60 % of its
    box with content.
    """
    from usegan.imageio import to_float01

    arr = np.asarray(image)
    height, width = arr.shape[:2]
    base = suggest_crop(arr, params).box
    if base.w * 2 > width and base.h * 2 > height:
        return None
    rgb = to_float01(arr)
    rgb = rgb[..., :3] if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, axis=2)
    gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    content = (np.abs(gray - float(np.median(border))) > 0.06) | (chroma > COLOUR_CHROMA / 255)  # coloured pixel
    rows = content[base.y : base.bottom].astype(np.float32).sum(axis=0)  # content per column within the rows
    window = np.convolve(rows, np.ones(base.w, dtype=np.float32), mode="valid") / float(base.w * base.h)
    best, best_x = 0.0, None
    for x in range(0, width - base.w + 1):
        if x < base.right and x + base.w > base.x:  # overlaps the B-mode panel
            continue
        if window[x] > best:
            best, best_x = float(window[x]), x
    if best_x is None or best < 0.6:
        return None
    partner = CropBox(best_x, base.y, base.w, base.h)
    if float(chroma[base.y : base.bottom, base.x : base.right].mean()) > float(
        chroma[partner.y : partner.bottom, partner.x : partner.right].mean()
    ):
        base, partner = partner, base
    return base, partner


def _trimmed_span(profile: np.ndarray, trim_fraction: float) -> tuple[int, int] | None:
    """First and one-past-last index where ``profile`` reaches ``trim_fraction`` of its maximum."""
    peak = float(profile.max(initial=0))
    if peak <= 0:
        return None
    keep = np.flatnonzero(profile >= trim_fraction * peak)
    return int(keep[0]), int(keep[-1]) + 1


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor x factor`` blocks (edges padded by replication); ``factor`` 1 returns float32 as is."""
    image = image.astype(np.float32, copy=False)
    if factor == 1:
        return image
    height, width = image.shape[:2]
    ph, pw = -height % factor, -width % factor
    pad = ((0, ph), (0, pw)) + ((0, 0),) * (image.ndim - 2)
    padded = np.pad(image, pad, mode="edge")
    shape = (padded.shape[0] // factor, factor, padded.shape[1] // factor, factor) + image.shape[2:]
    return padded.reshape(shape).mean(axis=(1, 3))
