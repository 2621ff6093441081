"""Tissue model of a breast phantom: layers, lesion shape, and the per-pixel property maps built from them.

A phantom is a square field of view (``fov_mm`` wide and deep, linear probe at the top) holding, from the skin
down: skin, subcutaneous fat (lobules separated by Cooper's ligaments), the glandular layer, and the pectoral
muscle; plus an optional lesion in the gland. Every structure has three properties, each an ``(H, W)`` float32
map: Young's modulus in kPa (mechanics), echogenicity = backscatter power relative to gland (B-mode), and
attenuation in dB/cm/MHz (shadowing / enhancement).

Stiffness ranges follow DOMAIN.md section 4 and the values measured ex vivo by Krouskop et al. (Ultrason Imaging
1998) and Samani et al. (Phys Med Biol 2007): fat ~5-10 kPa, gland ~15-40 kPa, fibroadenoma ~ gland to a few times
stiffer, carcinoma ~60-200 kPa; cyst fluid has (almost) no shear stiffness. Attenuation: fat ~0.5, gland ~0.75,
carcinoma 1.5-3 (posterior shadowing), fluid ~0.05 dB/cm/MHz (posterior enhancement) (Duck, Physical Properties of
Tissue, 1990).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from usegan.vocab import LesionType, values

LESION_TYPES = values(LesionType)
SHAPES = ("round", "oval", "lobulated", "spiculated")
PATTERNS = ("uniform", "mosaic", "core")

# Integer labels of the tissue map.
SKIN, FAT, GLAND, MUSCLE, LESION, HALO, LIGAMENT = 1, 2, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class PhantomParams:
    """Everything that defines one phantom's anatomy; drawn by :func:`usegan.phantom.case.sample_params`."""

    lesion_type: str = "fibroadenoma"  # one of LESION_TYPES
    shape: str = "oval"  # one of SHAPES
    size_mm: float = 10.0  # lesion width (lateral extent before rotation), mm
    depth_mm: float = 18.0  # depth of the lesion centre below the skin surface, mm
    lateral_mm: float = 0.0  # lateral offset of the lesion centre from the image centre, mm
    aspect: float = 0.7  # lesion height / width (> 1 = "taller than wide")
    angle_deg: float = 0.0  # lesion tilt, degrees
    pattern: str = "uniform"  # stiffness pattern inside the lesion: uniform, mosaic (scattered stiff), core
    skin_mm: float = 2.0  # skin thickness, mm
    fat_mm: float = 8.0  # mean subcutaneous fat thickness, mm
    muscle_mm: float = 6.0  # pectoral muscle thickness at the bottom, mm
    fat_kpa: float = 7.0  # Young's modulus of fat, kPa
    gland_kpa: float = 25.0  # Young's modulus of glandular tissue, kPa
    lesion_kpa: float = 30.0  # Young's modulus of the lesion (its stiff part for mosaic/core patterns), kPa
    lesion_soft_kpa: float = 25.0  # modulus of the soft part of a mosaic/core lesion, kPa
    halo_kpa: float = 0.0  # modulus of a stiff peri-lesional halo (0 = no halo), kPa
    halo_mm: float = 0.0  # halo thickness, mm
    lesion_echo: float = 0.5  # lesion backscatter relative to gland (1 = iso-echoic, ~0 = anechoic)
    lesion_atten: float = 0.75  # lesion attenuation, dB/cm/MHz (gland 0.75: > shadows, < enhances)
    fov_mm: float = 40.0  # side of the square field of view, mm

    def __post_init__(self) -> None:
        if self.lesion_type not in LESION_TYPES:
            raise ValueError(f"lesion_type must be one of {LESION_TYPES}, got {self.lesion_type!r}")
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {self.shape!r}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, got {self.pattern!r}")
        for name in ("fat_kpa", "gland_kpa", "lesion_kpa", "lesion_soft_kpa", "fov_mm", "size_mm", "aspect"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.depth_mm < self.fov_mm:
            raise ValueError(f"depth_mm must lie inside the field of view (0, {self.fov_mm}), got {self.depth_mm!r}")


@dataclass(frozen=True)
class Tissue:
    """Per-pixel property maps of a phantom, all ``(H, W)``; row 0 is the skin surface."""

    labels: np.ndarray  # int8 tissue label (SKIN, FAT, ...)
    stiffness_kpa: np.ndarray  # float32 Young's modulus, kPa
    echo: np.ndarray  # float32 backscatter power relative to gland, >= 0
    atten: np.ndarray  # float32 attenuation, dB/cm/MHz
    lesion_mask: np.ndarray  # bool, the lesion (halo excluded)
    halo_mask: np.ndarray  # bool, the stiff ring around the lesion (empty when there is none)
    fat_mask: np.ndarray  # bool, subcutaneous fat layer incl. its septa (the strain-ratio reference)
    mm_per_px: float  # pixel pitch, mm


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field with correlation length ``sigma_px`` pixels, float32."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_px, mode="wrap")
    return ((field - field.mean()) / (field.std() + 1e-12)).astype(np.float32)


def lesion_radius(theta: np.ndarray, shape: str, rng: np.random.Generator) -> np.ndarray:
    """Relative boundary radius ``r(theta)`` (about 1) of a lesion outline; ``theta`` in radians."""
    r = np.ones_like(theta)
    if shape == "lobulated":
        k = int(rng.integers(3, 6))
        r += rng.uniform(0.10, 0.18) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    elif shape == "spiculated":
        # Irregular core plus thin spikes (narrow angular Gaussians): the margin of an invasive carcinoma.
        for k in (2, 3, 5):
            r += rng.uniform(0.02, 0.08) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        for centre in rng.uniform(0, 2 * np.pi, size=int(rng.integers(7, 13))):
            d = np.angle(np.exp(1j * (theta - centre)))
            r += rng.uniform(0.25, 0.6) * np.exp(-0.5 * (d / rng.uniform(0.03, 0.06)) ** 2)
    return r


def lesion_masks(params: PhantomParams, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(lesion, halo)`` bool ``(size, size)`` masks; both empty for ``lesion_type == "none"``."""
    empty = np.zeros((size, size), dtype=bool)
    if params.lesion_type == "none":
        return empty, empty.copy()
    mm = params.fov_mm / size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) * mm
    cx, cy = params.fov_mm / 2 + params.lateral_mm, params.depth_mm
    a = np.deg2rad(params.angle_deg)
    u = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)
    v = -(xx - cx) * np.sin(a) + (yy - cy) * np.cos(a)
    half_w = params.size_mm / 2
    half_h = half_w * params.aspect
    rho = np.hypot(u / half_w, v / half_h)
    theta = np.arctan2(v / half_h, u / half_w)
    lesion = rho <= lesion_radius(theta, params.shape, rng)
    if not lesion.any():  # a lesion smaller than a pixel still occupies its centre pixel
        lesion[min(int(cy / mm), size - 1), min(max(int(cx / mm), 0), size - 1)] = True
    halo = empty.copy()
    if params.halo_kpa > 0 and params.halo_mm > 0:
        outside = ndimage.distance_transform_edt(~lesion) * mm
        halo = (outside > 0) & (outside <= params.halo_mm)
    return lesion, halo


def build_tissue(params: PhantomParams, size: int, rng: np.random.Generator) -> Tissue:
    """Draw the layered anatomy and the lesion of ``params`` on a ``size x size`` grid (seeded by ``rng``)."""
    if size < 16:
        raise ValueError(f"phantom size must be at least 16 pixels, got {size!r}")
    mm = params.fov_mm / size
    depth = (np.arange(size, dtype=np.float32)[:, None] + 0.5) * mm
    x = np.arange(size, dtype=np.float32)[None, :] * mm
    # Wavy layer interfaces: fat/gland boundary undulates by a few mm, as on real scans.
    phase = rng.uniform(0, 2 * np.pi, size=3)
    fat_bottom = params.skin_mm + params.fat_mm * (
        1 + 0.18 * np.sin(2 * np.pi * x / rng.uniform(12, 30) + phase[0]) + 0.08 * np.sin(2 * np.pi * x / 7 + phase[1])
    )
    muscle_top = params.fov_mm - params.muscle_mm * (1 + 0.15 * np.sin(2 * np.pi * x / 25 + phase[2]))
    labels = np.full((size, size), GLAND, dtype=np.int8)
    labels[depth < fat_bottom] = FAT
    labels[np.broadcast_to(depth < params.skin_mm, labels.shape)] = SKIN
    labels[depth >= muscle_top] = MUSCLE

    fat = labels == FAT
    # Fat lobules: Voronoi-like cells whose borders are the echogenic Cooper's ligaments / septa.
    cells = smooth_noise(rng, (size, size), sigma_px=2.2 / mm)
    ligament = fat & (np.abs(cells) < 0.09)
    gland_fat = (labels == GLAND) & (smooth_noise(rng, (size, size), sigma_px=1.5 / mm) > 1.3)
    labels[ligament] = LIGAMENT

    lesion, halo = lesion_masks(params, size, rng)
    labels[halo] = HALO
    labels[lesion] = LESION

    texture = smooth_noise(rng, (size, size), sigma_px=0.8 / mm)
    stiff_var = smooth_noise(rng, (size, size), sigma_px=3.0 / mm)
    stiffness = np.empty((size, size), dtype=np.float32)
    stiffness[:] = params.gland_kpa * np.exp(0.08 * stiff_var)
    stiffness[fat | (labels == LIGAMENT)] = params.fat_kpa
    stiffness[gland_fat] = params.fat_kpa * 1.3
    stiffness[labels == SKIN] = 1.5 * params.gland_kpa
    stiffness[labels == MUSCLE] = 1.2 * params.gland_kpa
    stiffness[halo] = params.halo_kpa
    stiffness[lesion] = _lesion_stiffness(params, lesion, rng, mm)

    echo = np.empty((size, size), dtype=np.float32)
    echo[:] = np.exp(0.6 * texture - 0.18)  # glandular parenchyma: bright, patchy (mean ~1)
    echo[fat] = 0.07 * np.exp(0.3 * texture[fat])  # fat lobules: hypoechoic (~ -12 dB re gland)
    echo[gland_fat] = 0.1
    echo[labels == LIGAMENT] = 2.5  # Cooper's ligaments: thin echogenic septa
    echo[labels == SKIN] = 2.5
    muscle = labels == MUSCLE
    striation = np.sin(depth * 2 * np.pi / 1.3 + 0.3 * texture) > 0.75
    echo[muscle] = np.where(striation, 1.2, 0.12)[muscle]
    if params.lesion_type != "none":
        if params.lesion_type.startswith("malignant"):  # echogenic rim of infiltrated tissue
            rim = ndimage.binary_dilation(lesion, iterations=max(1, int(0.6 / mm))) & ~lesion
            echo[rim] *= 1.8
        echo[lesion] = params.lesion_echo * np.exp(0.3 * texture[lesion])
        if params.lesion_type == "cyst":
            echo[lesion] = params.lesion_echo
            # Cyst walls are thin specular reflectors: a bright, well-defined edge.
            wall = ndimage.binary_dilation(lesion, iterations=1) & ~lesion
            echo[wall] = 2.0

    atten = np.full((size, size), 0.75, dtype=np.float32)
    atten[fat] = 0.5
    atten[lesion] = params.lesion_atten
    return Tissue(labels, stiffness, echo, atten, lesion, halo, fat & ~lesion & ~halo, mm)


def _lesion_stiffness(params: PhantomParams, lesion: np.ndarray, rng: np.random.Generator, mm: float) -> np.ndarray:
    """Modulus of the lesion pixels (1-D, in ``lesion``'s order) for the lesion's stiffness pattern."""
    n = int(lesion.sum())
    if params.pattern == "uniform":
        return np.full(n, params.lesion_kpa, dtype=np.float32)
    if params.pattern == "mosaic":
        # Scattered stiff islands (~25-35 % of the area) in a soft lesion: Tsukuba 2.
        field = smooth_noise(rng, lesion.shape, sigma_px=0.9 / mm)[lesion]
        stiff = field > np.quantile(field, 0.70)
        return np.where(stiff, params.lesion_kpa, params.lesion_soft_kpa).astype(np.float32)
    # "core": a stiff centre and a soft periphery, by distance to the lesion edge: Tsukuba 3.
    inside = ndimage.distance_transform_edt(lesion)[lesion]
    core = inside > 0.45 * inside.max()
    return np.where(core, params.lesion_kpa, params.lesion_soft_kpa).astype(np.float32)
