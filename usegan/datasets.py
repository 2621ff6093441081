"""Torch datasets of paired B-mode / elastogram images, with augmentations that keep each pair aligned.

Two folder layouts:

* **phantom**: what ``usegan phantom`` writes (``index.csv`` + one folder per case with ``bmode.png``,
  ``strain.png``, ``swe.png``, ``mask.png``, ``meta.json`` holding the elastography box);
* **pairs**: a department's own data, ``ROOT/bmode/NAME.png`` + ``ROOT/elasto/NAME.png`` (+ optional
  ``ROOT/mask/NAME.png``), any of .png/.jpg/.jpeg/.bmp/.tif/.tiff. The elastography box is found as the bounding
  box of the coloured (non-gray) pixels of the elastogram. Images are letterboxed to ``size``.

Each item is a dict: ``bmode (1, H, W)`` float32 in [-1, 1], ``elasto (3, H, W)`` float32 in [-1, 1],
``position (1, H, W)`` float32: the elastogram's colour-map position in [0, 1] (what the generator predicts), NaN
wherever the elastogram pixel is not a colour of the map (gray B-mode outside the box, letterbox padding, corners
rotated in): those pixels are *fill* and no loss may learn from them; ``mask (1, H, W)`` float32 in {0, 1},
``box (4,)`` int64 elastography box (x, y, w, h) in pixels, ``name`` str.

Augmentations (:class:`AugmentConfig`) are drawn once per item and applied identically to the B-mode, the
elastogram, the mask and the box (flips, small rotations); gain/contrast/depth-gain jitter and the style transfer from
target-domain scans touch only the B-mode, because elastogram colours encode strain or kPa and must not change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage
from torch.utils.data import Dataset

from usegan.colormaps import COLOUR_CHROMA, lut_positions
from usegan.imageio import load_image, to_gray, to_rgb_uint8
from usegan.letterbox import Letterbox

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class AugmentConfig:
    hflip: float = 0.5  # probability of a left-right flip
    vflip: float = 0.0  # probability of an up-down flip (off: depth has a direction in ultrasound)
    gain: float = 0.1  # B-mode brightness jitter, +/- this fraction of full scale
    contrast: float = 0.2  # B-mode contrast factor drawn from [1 - contrast, 1 + contrast]
    rotate_deg: float = 5.0  # largest rotation, degrees (drawn uniformly in +/- this)
    gamma: float = 0.3  # B-mode gamma drawn log-uniformly from [1 / (1 + gamma), 1 + gamma]
    blur_px: float = 1.0  # B-mode Gaussian blur sigma drawn from [0, blur_px] half of the time (smoother scanners)
    # TGC error: half of the time, a grey-level ramp over depth, 0 at the top and drawn from +/- this (fraction of
    # full scale) at the bottom, clipped to [0, 1] (deep tissue crushed to black or washed out). 0 = off (the
    # bundled models trained without it; off, it draws no random number, so their runs reproduce).
    depth_gain: float = 0.0
    # Unpaired appearance transfer from unlabelled target-domain scans (Fourier amplitude mixing: FDA, Yang & Soatto,
    # CVPR 2020; the interpolated form of Xu et al., CVPR 2021): half of the time the B-mode's low-frequency Fourier
    # amplitude (a band of half-width style_beta x the shorter side) is moved towards that of a scan drawn from
    # style_dir, its phase kept: the mean grey level and the strength of the image's own slow trends (depth
    # fall-off, shading) take the target scanner's, while every structure stays where it is and the pair stays
    # aligned (a trend the image lacks is not created: that is the phase's). 0 = off (draws no random number).
    style_dir: str = ""
    style_beta: float = 0.0

    def __post_init__(self) -> None:
        for name in ("hflip", "vflip"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)!r}")
        for name in ("gain", "contrast", "rotate_deg", "gamma", "blur_px", "depth_gain"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.style_beta <= 0.5:
            raise ValueError(f"style_beta is a fraction of the image side in [0, 0.5], got {self.style_beta!r}")
        if self.style_beta > 0 and not self.style_dir:
            raise ValueError("style_beta > 0 needs style_dir (a folder of target-domain B-mode scans)")
        if self.style_beta > 0:
            target_scans(self.style_dir)  # a missing or empty folder is an error now, not in a loader worker


@lru_cache(maxsize=4)
def target_scans(folder: str) -> tuple[np.ndarray, ...]:
    """The scans under ``folder`` (any of :data:`IMAGE_SUFFIXES`, sorted by name) as gray float32 ``(H, W)`` in
    [0, 1]; read once per process. Raises ValueError naming the folder when it holds none."""
    root = Path(folder)
    files = sorted(f for f in root.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if root.is_dir() else []
    if not files:
        raise ValueError(f"{folder!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return tuple(to_gray(load_image(f)).astype(np.float32) for f in files)  # to_gray is in [0, 1] already


def target_crops(
    scans: tuple[np.ndarray, ...], n: int, shape: tuple[int, int], rng: np.random.Generator, min_side: float = 0.5
) -> torch.Tensor:
    """``n`` random views of target-domain ``scans`` (:func:`target_scans`): a scan drawn at random, a square of a
    ``U(min_side, 1)`` fraction of its shorter side at a random place, mirrored half of the time, resized to
    ``shape`` (H, W). Returns ``(n, 1, H, W)`` float32 in [-1, 1], as the training B-modes are: the unlabelled input
    of feature-level domain adaptation (:mod:`usegan.models.domain`)."""
    if not scans:
        raise ValueError("target_crops needs at least one scan")
    if not 0.0 < min_side <= 1.0:
        raise ValueError(f"min_side is a fraction of the shorter side in (0, 1], got {min_side!r}")
    views = []
    for _ in range(n):
        scan = scans[int(rng.integers(len(scans)))]
        side = max(8, int(round(rng.uniform(min_side, 1.0) * min(scan.shape))))
        top = int(rng.integers(scan.shape[0] - side + 1))
        left = int(rng.integers(scan.shape[1] - side + 1))
        view = torch.from_numpy(np.ascontiguousarray(scan[top : top + side, left : left + side]))
        if rng.random() < 0.5:
            view = view.flip(-1)
        views.append(
            torch.nn.functional.interpolate(view[None, None], size=shape, mode="bilinear", align_corners=False)
        )
    return torch.cat(views).clamp(0.0, 1.0) * 2.0 - 1.0


def amplitude_mix(image: np.ndarray, style: np.ndarray, beta: float, weight: float) -> np.ndarray:
    """``image`` (H, W) float32 in [0, 1] with the amplitude of its Fourier components in the low-frequency band
    (frequencies up to ``beta`` x the shorter side, per axis) moved a fraction ``weight`` in [0, 1] of the way to
    those of ``style`` (any size: resized to H x W first); phases are kept. Returns (H, W) float32 clipped to
    [0, 1]; pixels exactly 0 in ``image`` (crushed black, fill still black) stay 0."""
    h, w = image.shape
    if style.shape != (h, w):
        style = ndimage.zoom(style, (h / style.shape[0], w / style.shape[1]), order=1)[:h, :w]
        style = np.pad(style, ((0, h - style.shape[0]), (0, w - style.shape[1])), mode="edge")
    spectrum, target = np.fft.fft2(image), np.fft.fft2(style)
    amplitude, phase = np.abs(spectrum), np.angle(spectrum)
    band = max(1, int(beta * min(h, w)))
    fy, fx = np.abs(np.fft.fftfreq(h) * h), np.abs(np.fft.fftfreq(w) * w)
    low = (fy[:, None] <= band) & (fx[None, :] <= band)
    amplitude[low] = (1.0 - weight) * amplitude[low] + weight * np.abs(target)[low]
    mixed = np.real(np.fft.ifft2(amplitude * np.exp(1j * phase))).astype(np.float32)
    return np.where(image == 0, 0.0, np.clip(mixed, 0.0, 1.0)).astype(np.float32)


def augment_pair(
    bmode: np.ndarray,
    elasto: np.ndarray,
    mask: np.ndarray,
    box: tuple[int, int, int, int],
    config: AugmentConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Apply one random draw of ``config`` to a pair.

    ``bmode`` (H, W) float32 in [0, 1]; ``elasto`` (H, W, 3) uint8; ``mask`` (H, W) bool; ``box`` (x, y, w, h).
    Returns the same types. Rotations use bilinear interpolation for the B-mode and nearest neighbour for the
    elastogram and mask (so every elastogram pixel stays a colour of the map); corners rotated in are black.
    """
    h, w = bmode.shape
    box_img = np.zeros((h, w), dtype=bool)
    bx, by, bw, bh = box
    box_img[by : by + bh, bx : bx + bw] = True
    if rng.random() < config.hflip:
        bmode, elasto, mask, box_img = bmode[:, ::-1], elasto[:, ::-1], mask[:, ::-1], box_img[:, ::-1]
    if rng.random() < config.vflip:
        bmode, elasto, mask, box_img = bmode[::-1], elasto[::-1], mask[::-1], box_img[::-1]
    angle = rng.uniform(-config.rotate_deg, config.rotate_deg) if config.rotate_deg > 0 else 0.0
    if abs(angle) > 1e-3:
        bmode = ndimage.rotate(bmode, angle, reshape=False, order=1, mode="constant", cval=0.0)
        elasto = ndimage.rotate(elasto, angle, axes=(1, 0), reshape=False, order=0, mode="constant", cval=0)
        mask = ndimage.rotate(mask, angle, reshape=False, order=0, mode="constant", cval=False)
        box_img = ndimage.rotate(box_img, angle, reshape=False, order=0, mode="constant", cval=False)
    contrast = rng.uniform(1 - config.contrast, 1 + config.contrast)
    gain = rng.uniform(-config.gain, config.gain)
    bmode = np.clip((bmode - 0.5) * contrast + 0.5 + gain, 0.0, 1.0).astype(np.float32)
    if config.depth_gain > 0 and rng.random() < 0.5:
        # a log-compressed image's TGC error adds grey levels in proportion to depth (rows): dB per cm is linear
        ramp = np.linspace(0.0, rng.uniform(-config.depth_gain, config.depth_gain), h, dtype=np.float32)
        bmode = np.clip(bmode + ramp[:, None], 0.0, 1.0)
    if config.style_beta > 0 and rng.random() < 0.5:
        bank = target_scans(config.style_dir)
        bmode = amplitude_mix(bmode, bank[rng.integers(len(bank))], config.style_beta, rng.uniform(0.0, 1.0))
    if config.gamma > 0:
        bmode = bmode ** np.float32(np.exp(rng.uniform(-1, 1) * np.log1p(config.gamma)))
    if config.blur_px > 0 and rng.random() < 0.5:
        bmode = ndimage.gaussian_filter(bmode, rng.uniform(0, config.blur_px))
    return np.ascontiguousarray(bmode), np.ascontiguousarray(elasto), np.ascontiguousarray(mask), _bbox(box_img)


def _bbox(region: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) bounding box of a bool image; the whole image when it is empty."""
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if rows.size == 0:
        return 0, 0, region.shape[1], region.shape[0]
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def colour_box(elasto: np.ndarray) -> tuple[int, int, int, int]:
    """Elastography box of an RGB elastogram ``(H, W, 3)`` uint8: bounding box of its coloured pixels."""
    rgb = elasto.astype(np.int16)
    return _bbox((rgb.max(axis=2) - rgb.min(axis=2)) > COLOUR_CHROMA)


def to_item(bmode: np.ndarray, elasto: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], name: str) -> dict:
    """Numpy pair (bmode [0, 1], elasto uint8, mask bool) -> the tensor dict described in the module docstring."""
    return {
        "bmode": torch.from_numpy(bmode * 2.0 - 1.0).float()[None],
        "elasto": torch.from_numpy(elasto.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1).contiguous(),
        "position": torch.from_numpy(lut_positions(elasto))[None],
        "mask": torch.from_numpy(mask.astype(np.float32))[None],
        "box": torch.tensor(box, dtype=torch.int64),
        "name": name,
    }


class _PairDataset(Dataset):
    """Shared loading / letterboxing / augmentation; subclasses list the items and read one raw pair."""

    def __init__(self, size: int | None, augment: AugmentConfig | None) -> None:
        if size is not None and size < 8:
            raise ValueError(f"size must be at least 8 pixels, got {size!r}")
        self.size = size
        self.augment = augment
        self.names: list[str] = []

    def __len__(self) -> int:
        return len(self.names)

    def _read(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict:
        bmode, elasto, mask, box = self._read(index)
        if self.size is not None and bmode.shape != (self.size, self.size):
            fit = Letterbox.fit(bmode.shape[0], bmode.shape[1], self.size)
            (x0, y0), (x1, y1) = fit.points_to_model(np.array([[box[0], box[1]], [box[0] + box[2], box[1] + box[3]]]))
            box = (round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)))
            bmode = fit.to_model(bmode)
            elasto = fit.to_model(elasto)
            mask = fit.to_model(mask.astype(np.uint8) * 255) > 127
        if self.augment is not None:
            # Drawn from torch's RNG so DataLoader worker seeding and torch.manual_seed control it.
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, ()).item()))
            bmode, elasto, mask, box = augment_pair(bmode, elasto, mask, box, self.augment, rng)
        return to_item(bmode, elasto, mask, box, self.names[index])


class PhantomDataset(_PairDataset):
    """Cases written by ``usegan phantom`` under ``root``; ``mode`` picks the elastogram ("strain" or "swe")."""

    def __init__(
        self, root: str | Path, mode: str = "strain", size: int | None = None, augment: AugmentConfig | None = None
    ) -> None:
        from usegan.phantom.writer import read_index

        super().__init__(size, augment)
        if mode not in ("strain", "swe"):
            raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")
        self.root = Path(root)
        self.mode = mode
        self.rows = read_index(self.root)
        self.names = [row["name"] for row in self.rows]

    def _read(self, index: int):
        folder = self.root / self.names[index]
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        b = meta["box"]
        bmode = to_gray(load_image(folder / "bmode.png"))
        elasto = to_rgb_uint8(load_image(folder / meta["modes"][self.mode]["file"]))
        mask = load_image(folder / "mask.png") > 127
        return bmode, elasto, mask, (int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"]))


class PairsDataset(_PairDataset):
    """A department's pairs: ``root/bmode/NAME.*`` + ``root/elasto/NAME.*`` (+ ``root/mask/NAME.*``)."""

    def __init__(self, root: str | Path, size: int = 256, augment: AugmentConfig | None = None) -> None:
        super().__init__(size, augment)
        self.root = Path(root)
        bmodes, elastos = _stems(self.root / "bmode"), _stems(self.root / "elasto")
        if not bmodes:
            raise ValueError(f"{self.root / 'bmode'}: no images (expected ROOT/bmode/NAME.png + ROOT/elasto/NAME.png)")
        missing = sorted(set(bmodes) - set(elastos))
        if missing:
            raise ValueError(f"{self.root / 'elasto'}: no elastogram for {len(missing)} B-mode(s), e.g. {missing[0]!r}")
        self.masks = _stems(self.root / "mask")
        self.bmodes, self.elastos = bmodes, elastos
        self.names = sorted(bmodes)

    def _read(self, index: int):
        name = self.names[index]
        bmode = to_gray(load_image(self.bmodes[name]))
        elasto = to_rgb_uint8(load_image(self.elastos[name]))
        if elasto.shape[:2] != bmode.shape:
            raise ValueError(
                f"{self.elastos[name]}: elastogram is {elasto.shape[1]}x{elasto.shape[0]}, "
                f"its B-mode is {bmode.shape[1]}x{bmode.shape[0]}"
            )
        if name in self.masks:
            mask = to_gray(load_image(self.masks[name])) > 0.5
            if mask.shape != bmode.shape:
                raise ValueError(f"{self.masks[name]}: mask size {mask.shape} differs from the B-mode's {bmode.shape}")
        else:
            mask = np.zeros(bmode.shape, dtype=bool)
        return bmode, elasto, mask, colour_box(elasto)


def _stems(folder: Path) -> dict[str, Path]:
    """``{stem: path}`` of the image files directly in ``folder`` (empty when it does not exist)."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
