"""The preprocessing pipeline callers use: any input -> the model's gray square, keeping the geometry to map back.

>>> image = read_image("scan.dcm", frame=2)              # doctest: +SKIP
>>> prep = prepare(image, size=256, crop="auto")         # doctest: +SKIP
>>> prep.model_input.shape, prep.crop                    # doctest: +SKIP
((256, 256), CropBox(x=120, y=90, w=420, h=360))
>>> prep.roi_to_source([[128, 128]])                     # model pixel -> original pixel   # doctest: +SKIP

Coordinates are continuous pixel coordinates ``(x, y)``: pixel ``[row i, column j]`` covers ``[j, j+1) x [i, i+1)``
(its centre is ``(j + 0.5, i + 0.5)``), in the full original image on the source side and in the ``size x size``
model square on the model side. Source -> model is: crop offset, then the :class:`Letterbox` scale and padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usegan.imageio import MIN_SIDE, ImageLoadError, check_size, load_image, to_gray
from usegan.letterbox import Letterbox
from usegan.screencrop import CropBox, CropSuggestion, InvalidCropError, suggest_crop

DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")


def is_dicom(source) -> bool:
    """True for a pydicom ``Dataset``, for bytes or a file with ``DICM`` at offset 128, or a ``.dcm`` name."""
    from usegan.dicomio import is_dicom_bytes

    if isinstance(source, bytes | bytearray):
        return is_dicom_bytes(bytes(source[:132]))
    if isinstance(source, str | Path):
        path = Path(source)
        if path.suffix.lower() in DICOM_SUFFIXES:
            return True
        try:
            with path.open("rb") as handle:
                return is_dicom_bytes(handle.read(132))
        except OSError:
            return False
    return type(source).__name__ in ("Dataset", "FileDataset")


def _max_pixels(max_pixels: int | None) -> int:
    if max_pixels is not None:
        return int(max_pixels)
    from usegan.settings import get_settings

    return get_settings().max_image_pixels


def read_image(source, frame: int = 0, max_pixels: int | None = None) -> np.ndarray:
    """Decode a raster image (PNG/JPEG/BMP/TIFF...) or a DICOM file into an array.

    Returns ``(H, W)`` gray or ``(H, W, 3|4)`` colour (uint8, uint16 or float32). DICOM is recognised by its
    ``DICM`` marker or a ``.dcm`` name and read with :func:`usegan.dicomio.read_dicom` (``frame`` picks the frame);
    other inputs go to :func:`usegan.imageio.load_image` (``frame`` picks a page). ``max_pixels`` defaults to
    the ``max_image_pixels`` setting. Raises :class:`~usegan.imageio.ImageLoadError` (or its subclass
    :class:`~usegan.dicomio.DicomReadError`) naming the source and the problem.
    """
    limit = _max_pixels(max_pixels)
    if not isinstance(source, np.ndarray) and is_dicom(source):
        from usegan.dicomio import read_dicom

        return read_dicom(source, frame=frame, max_pixels=limit).pixels
    return load_image(source, max_pixels=limit, frame=frame)


@dataclass(frozen=True)
class Prepared:
    """A model-ready input and the transform between it and the original image."""

    model_input: np.ndarray  # (size, size) float32 gray in [0, 1]; letterbox padding is 0
    crop: CropBox  # the part of the original image that was used, in original pixels
    letterbox: Letterbox  # crop area (crop.h x crop.w) <-> model square
    source_shape: tuple[int, int]  # (H, W) of the original image
    suggestion: CropSuggestion | None  # what crop="auto" proposed (None when the caller chose the crop)

    @property
    def size(self) -> int:
        """Side of the model square."""
        return self.letterbox.size

    def roi_to_model(self, xy) -> np.ndarray:
        """Original-image points ``(N, 2)`` or ``(2,)`` as (x, y) -> model-square points, float64."""
        xy = np.asarray(xy, dtype=np.float64)
        return self.letterbox.points_to_model(xy - [self.crop.x, self.crop.y])

    def roi_to_source(self, xy) -> np.ndarray:
        """Model-square points ``(N, 2)`` or ``(2,)`` as (x, y) -> original-image points, float64."""
        return self.letterbox.points_to_source(np.asarray(xy, dtype=np.float64)) + [self.crop.x, self.crop.y]

    def mask_to_source(self, mask: np.ndarray) -> np.ndarray:
        """``(size, size)`` bool/0-1 mask on the model square -> ``(H, W)`` bool mask on the original image.

        Padding is dropped, the crop area is resampled (area-weighted, threshold 0.5), the rest is False.
        """
        mask = np.asarray(mask)
        if mask.shape != (self.size, self.size):
            raise ValueError(f"mask must be {self.size}x{self.size} (model square), got shape {mask.shape}")
        inner = self.letterbox.to_source(mask.astype(np.float32)) >= 0.5
        out = np.zeros(self.source_shape, dtype=bool)
        out[self.crop.y : self.crop.bottom, self.crop.x : self.crop.right] = inner
        return out

    def mask_to_model(self, mask: np.ndarray) -> np.ndarray:
        """``(H, W)`` bool/0-1 mask on the original image -> ``(size, size)`` bool mask on the model square."""
        mask = np.asarray(mask)
        if mask.shape[:2] != self.source_shape or mask.ndim != 2:
            raise ValueError(f"mask must have the original shape {self.source_shape}, got {mask.shape}")
        return self.letterbox.to_model(self.crop.apply(mask).astype(np.float32)) >= 0.5

    def image_to_source(self, image: np.ndarray, fill: float = 0) -> np.ndarray:
        """A model-square output ``(size, size[, C])`` -> ``(H, W[, C])`` on the original geometry, same dtype.

        The generated elastogram lands on the crop area; everything outside it is ``fill``.
        """
        image = np.asarray(image)
        inner = self.letterbox.to_source(image)
        out = np.full(self.source_shape + image.shape[2:], fill, dtype=inner.dtype)
        out[self.crop.y : self.crop.bottom, self.crop.x : self.crop.right] = inner
        return out

    def valid_mask(self) -> np.ndarray:
        """``(size, size)`` bool: True where the model square holds image, False on letterbox padding."""
        lb = self.letterbox
        out = np.zeros((lb.size, lb.size), dtype=bool)
        out[lb.pad_top : lb.pad_top + lb.inner_height, lb.pad_left : lb.pad_left + lb.inner_width] = True
        return out


def prepare(
    image,
    size: int = 256,
    crop: None | str | CropBox | Sequence[int] = None,
    *,
    frame: int = 0,
    name: str | None = None,
    max_pixels: int | None = None,
) -> Prepared:
    """Crop, convert to gray and letterbox ``image`` to the model's ``size x size`` input.

    ``image``: an array from :func:`read_image` (``(H, W)`` or ``(H, W, 3|4)``) or anything :func:`read_image`
    accepts (a path, bytes, a DICOM dataset; ``frame`` then picks the frame). ``crop``: ``None`` for the whole
    image, ``"auto"`` for :func:`usegan.screencrop.suggest_crop`'s proposal, or the caller's own
    :class:`CropBox` / ``(x, y, w, h)``, which must be at least 8x8 and inside the image (else
    :class:`~usegan.screencrop.InvalidCropError`, naming ``name`` and the box).
    """
    if not isinstance(image, np.ndarray):
        name = name or (str(image) if isinstance(image, str | Path) else None)
        image = read_image(image, frame=frame, max_pixels=max_pixels)
    name = name or "image"
    image = load_image(image, max_pixels=_max_pixels(max_pixels))  # shape/size checks for arrays given directly
    height, width = image.shape[:2]
    suggestion = None
    if crop is None:
        box = CropBox.full(height, width)
    elif isinstance(crop, str):
        if crop != "auto":
            raise ValueError(f"crop must be None, 'auto', a CropBox or (x, y, w, h), got {crop!r}")
        suggestion = suggest_crop(image)
        box = suggestion.box
    else:
        box = _as_box(crop, name)
    box.validate(height, width, name)
    if box.w < MIN_SIDE or box.h < MIN_SIDE:
        raise InvalidCropError(f"{name}: crop {box} is {box.w}x{box.h}; at least {MIN_SIDE}x{MIN_SIDE} is needed")
    try:
        check_size(box.h, box.w, name, _max_pixels(max_pixels))
    except ImageLoadError as exc:  # pragma: no cover - the full image passed the same check
        raise InvalidCropError(str(exc)) from exc
    gray = to_gray(box.apply(image))
    letterbox = Letterbox.fit(box.h, box.w, size)
    model_input = np.clip(letterbox.to_model(gray, fill=0.0), 0.0, 1.0).astype(np.float32, copy=False)
    return Prepared(model_input, box, letterbox, (height, width), suggestion)


def _as_box(crop, name: str) -> CropBox:
    if isinstance(crop, CropBox):
        return crop
    try:
        values = [v for v in crop]
    except TypeError:
        values = []
    if len(values) != 4 or not all(isinstance(v, int | np.integer) for v in values):
        raise InvalidCropError(f"{name}: crop must be a CropBox or four integers (x, y, w, h), got {crop!r}")
    return CropBox(*(int(v) for v in values))
