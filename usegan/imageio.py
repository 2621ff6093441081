"""Safe reading of raster images (PNG, JPEG, BMP, TIFF) and conversion to the model's gray input.

Everything that reads a user's image goes through :func:`load_image`, which refuses what cannot be decoded,
degenerate sizes and decompression bombs with an :class:`ImageLoadError` naming the file and the problem.
DICOM files are handled by :mod:`usegan.dicomio` and dispatched from :func:`usegan.preprocess.read_image`.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

DEFAULT_MAX_PIXELS = 40_000_000
MIN_SIDE = 8

ImageLike = str | Path | bytes | Image.Image | np.ndarray


class ImageLoadError(ValueError):
    """An input image cannot be used; the message names the source and the reason."""


def _describe(source: object) -> str:
    if isinstance(source, str | Path):
        return str(source)
    if isinstance(source, bytes | bytearray):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    return f"<{type(source).__name__}>"


def check_size(height: int, width: int, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise :class:`ImageLoadError` when a ``height x width`` image is too small or too large to process."""
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ImageLoadError(f"{name}: image is {width}x{height} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed")
    if height * width > max_pixels:
        raise ImageLoadError(
            f"{name}: image is {width}x{height} = {height * width:,} pixels, over the limit of {max_pixels:,} "
            "(a possible decompression bomb; raise USEGAN_MAX_IMAGE_PIXELS if it is genuine)"
        )


def load_image(source: ImageLike, max_pixels: int = DEFAULT_MAX_PIXELS, frame: int = 0) -> np.ndarray:
    """Decode ``source`` into an array: ``(H, W)`` for gray or ``(H, W, 3|4)`` for colour, dtype uint8/uint16/float.

    ``source`` may be a path, raw bytes, a PIL image or an array (returned as is after checks). The pixel count is
    checked from the header *before* decoding, so a decompression bomb is refused without allocating it.
    ``frame`` picks a page of a multi-page TIFF / animated GIF or PNG. An EXIF orientation (photos of a screen
    taken with a phone) is applied, so the array is upright as every viewer shows it.
    """
    name = _describe(source)
    if isinstance(source, np.ndarray):
        arr = source
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
            raise ImageLoadError(f"{name}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
        if arr.dtype.kind not in "biuf":
            raise ImageLoadError(f"{name}: pixel type {arr.dtype} is not a number type")
        if frame != 0:
            raise ImageLoadError(f"{name}: frame index {frame!r} out of range; an array holds 1 frame (0)")
        check_size(arr.shape[0], arr.shape[1], name, max_pixels)
        check_finite(arr, name)
        return arr[..., 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr
    if isinstance(source, Image.Image):
        check_size(source.height, source.width, name, max_pixels)
        return _pil_to_array(_select_frame(source, frame, name), name)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise ImageLoadError(f"{name}: no such file")
        if path.is_dir():
            raise ImageLoadError(f"{name}: is a directory, not an image")
        data = path.read_bytes()
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        raise ImageLoadError(f"{name}: unsupported image source type")
    if not data:
        raise ImageLoadError(f"{name}: file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            check_size(image.height, image.width, name, max_pixels)
            image = _select_frame(image, frame, name)
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"{name}: refused as a decompression bomb ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"{name}: not a readable image ({exc})") from exc
    return check_finite(_pil_to_array(image, name), name)


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    """Return ``arr``; ``ImageLoadError`` when a float image holds NaN or infinite pixels (no plausible output from
    garbage: the count and the first position are named)."""
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0][:2])
            raise ImageLoadError(
                f"{name}: {int(bad.sum())} pixel(s) are not finite numbers (NaN or infinity), the first at row "
                f"{first[0]}, column {first[1]}; export the image again without missing values"
            )
    return arr


def _select_frame(image: Image.Image, frame: int, name: str) -> Image.Image:
    n_frames = int(getattr(image, "n_frames", 1) or 1)
    if not isinstance(frame, int | np.integer) or not 0 <= frame < n_frames:
        raise ImageLoadError(
            f"{name}: frame index {frame!r} out of range; the image has {n_frames} frame(s) (0..{n_frames - 1})"
        )
    if frame:
        image.seek(int(frame))
    return image


def _pil_to_array(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image)
        return arr.astype(np.uint16) if arr.max(initial=0) <= 65535 and arr.min(initial=0) >= 0 else arr
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))
    try:
        return np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise ImageLoadError(f"{name}: cannot convert mode {mode} to RGB ({exc})") from exc


def to_float01(arr: np.ndarray) -> np.ndarray:
    """Scale any integer or float image to float32 in [0, 1] by its dtype's range (floats by min/max)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        return ((arr.astype(np.float64) - info.min) / (info.max - info.min)).astype(np.float32)
    f = arr.astype(np.float32)
    lo, hi = float(np.nanmin(f)), float(np.nanmax(f))
    if lo >= 0.0 and hi <= 1.0:
        return f
    return (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)


def to_gray(arr: np.ndarray) -> np.ndarray:
    """Any image array -> ``(H, W)`` float32 gray in [0, 1]. RGBA is composited on black; RGB by ITU-R BT.601 luma."""
    f = to_float01(arr)
    if f.ndim == 2:
        return f
    if f.shape[2] == 4:
        f = f[..., :3] * f[..., 3:4]
    if f.shape[2] == 1:
        return f[..., 0]
    return (f[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)


def to_rgb_uint8(arr: np.ndarray) -> np.ndarray:
    """Any image array -> ``(H, W, 3)`` uint8, for display (always a new array)."""
    if arr.dtype == np.uint8 and (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        # Already display pixels: the float round trip below would give the same values, ~20x slower.
        return np.repeat(arr[..., None], 3, axis=2) if arr.ndim == 2 else arr.copy()
    f = to_float01(arr)
    if f.ndim == 2:
        f = np.repeat(f[..., None], 3, axis=2)
    elif f.shape[2] == 4:
        f = f[..., :3] * f[..., 3:4]
    return np.clip(np.rint(f[..., :3] * 255), 0, 255).astype(np.uint8)


def save_png(arr: np.ndarray, path: str | Path, text: dict[str, str] | None = None) -> Path:
    """Write a uint8 gray or RGB array as PNG, atomically (temp file + rename); ``text`` becomes PNG text chunks
    (e.g. the virtual-elastography label and model version, readable with ``Image.open(p).text``)."""
    from PIL.PngImagePlugin import PngInfo

    from usegan.fileutil import atomic_write_bytes

    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, str(value))
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(arr)).save(buffer, format="PNG", pnginfo=info)
    return atomic_write_bytes(path, buffer.getvalue())
