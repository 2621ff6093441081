"""Tissue model of a breast phantom: layers, lesion shape, and the per-pixel property maps built from them.

A phantom is a square field of view (``fov_mm`` wide and deep, linear probe at the top) holding, from the skin
down, what a real breast scan shows (compare the BUSI normal scans, Al-Dhabyani et al., Data in Brief 2020): the
skin line; subcutaneous fat as hypoechoic lobules elongated along the skin, outlined by echogenic Cooper's
ligaments (some of which cast thin refraction shadows); the glandular layer, echogenic and heterogeneous with a
laterally stretched texture and dark fat islands; an optional retromammary fat band; the pectoral muscle with
oblique fascial striations; and the chest wall, dark below a bright pleural line. Plus the lesion in the gland and
optional small satellite nodules (benign cysts / soft nodules) elsewhere in it; and the shadows real scans are full
of, thin (refraction at a ligament) and broad (a 3-10 mm wide dark column down to the chest wall, as cast by a
ligament bundle, the nipple or a lost probe contact), which change the B-mode only: the tissue under a shadow keeps
its stiffness. Every structure has three
properties, each an ``(H, W)`` float32 map: Young's modulus in kPa (mechanics), echogenicity = backscatter power
relative to gland (B-mode), and attenuation in dB/cm/MHz (shadowing / enhancement).

Stiffness ranges follow docs/domain.md section 4 and the values measured ex vivo by Krouskop et al. (Ultrason Imaging
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
SHAPES = ("round", "oval", "lobulated", "spiculated", "microlobulated", "angular", "irregular")
PATTERNS = ("uniform", "mosaic", "core")

# Integer labels of the tissue map.
SKIN, FAT, GLAND, MUSCLE, LESION, HALO, LIGAMENT, RETRO_FAT, CHEST_WALL, SATELLITE = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10


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
    margin_mm: float = 0.0  # width of an indistinct (blurred) lesion margin on B-mode, mm (0 = sharp)
    echogenic_rim_mm: float = 0.0  # thickness of an echogenic halo around the lesion on B-mode, mm (0 = none)
    calcifications: int = 0  # bright punctate echoes inside the lesion (microcalcifications)
    retro_fat_mm: float = 0.0  # retromammary fat band above the muscle, mm
    chest_wall_mm: float = 0.0  # dark chest wall (intercostal tissue / lung behind the pleura) at the bottom, mm
    satellites: int = 0  # small benign nodules elsewhere in the gland (cysts or soft nodules), not the lesion
    ligament_shadows: int = 0  # Cooper's ligament segments that cast thin refraction shadows
    broad_shadows: int = 0  # wide posterior shadows (oblique ligament bundles, nipple, probe contact loss)
    edge_dark_left_mm: float = 0.0  # dark band along the left image edge (probe-edge drop-out), mm (0 = none)
    edge_dark_right_mm: float = 0.0  # the same along the right edge, mm
    # the superficial layers' look (defaults: phantom-3; usegan.phantom.case.brighten_superficial draws others)
    skin_echo: float = 2.5  # skin backscatter relative to gland
    fat_echo: float = 0.16  # subcutaneous fat lobules' mean backscatter relative to gland (~ -8 dB)
    septa_echo: float = 3.0  # Cooper's ligaments / septa between the fat lobules
    septa_width: float = 0.12  # share of the lobule field's range counted as septum (wider = thicker septa)
    # broad shadows' darkness and width (defaults: phantom-3; usegan.phantom.case.deepen_shadows draws darker ones)
    shadow_db_low: float = 6.0  # two-way loss over a broad shadow's origin, dB: drawn from [low, high]
    shadow_db_high: float = 20.0
    shadow_width_low_mm: float = 3.0  # a broad shadow's width, mm: drawn from [low, high]
    shadow_width_high_mm: float = 10.0

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
        for low, high in (("shadow_db_low", "shadow_db_high"), ("shadow_width_low_mm", "shadow_width_high_mm")):
            if not 0 <= getattr(self, low) <= getattr(self, high):
                raise ValueError(
                    f"{low} must satisfy 0 <= {low} <= {high}, got {getattr(self, low)!r} and {getattr(self, high)!r}"
                )


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
    elif shape == "microlobulated":  # many small undulations: 1-2 mm scallops along the margin
        k = int(rng.integers(9, 15))
        r += rng.uniform(0.05, 0.09) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        r += rng.uniform(0.03, 0.06) * np.cos((k + 3) * theta + rng.uniform(0, 2 * np.pi))
    elif shape == "angular":  # a polygon with sharp corners: straight margins meeting at angles
        n = int(rng.integers(4, 7))
        corners = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.8, 1.25, n)
        ext_t = np.concatenate([corners - 2 * np.pi, corners, corners + 2 * np.pi])
        ext_r = np.tile(radii, 3)
        r = np.interp(np.mod(theta, 2 * np.pi), ext_t, ext_r)
        r = r * (1 + 0.04 * np.cos(3 * theta + rng.uniform(0, 2 * np.pi)))
    elif shape == "irregular":  # low-order irregularity, neither oval nor lobulated
        for k in (2, 3, 4, 6):
            r += rng.uniform(0.05, 0.14) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
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


def anisotropic_noise(
    rng: np.random.Generator, shape: tuple[int, int], axial_px: float, lateral_px: float
) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field correlated over ``axial_px`` rows and ``lateral_px`` columns:
    breast tissue is layered along the skin, so its structures are longer laterally than axially."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), (axial_px, lateral_px), mode="wrap")
    return ((field - field.mean()) / (field.std() + 1e-12)).astype(np.float32)


def _interface(rng: np.random.Generator, x_mm: np.ndarray, mean_mm: float, wobble: float) -> np.ndarray:
    """A smooth layer interface depth ``(1, W)`` in mm: ``mean_mm`` with slow undulations of relative size
    ``wobble``."""
    a, b = rng.uniform(12, 35), rng.uniform(5, 10)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    tilt = rng.uniform(-0.08, 0.08) * (x_mm - x_mm.mean())
    return (
        mean_mm * (1 + wobble * np.sin(2 * np.pi * x_mm / a + p1) + 0.4 * wobble * np.sin(2 * np.pi * x_mm / b + p2))
        + tilt
    )


def _rims(region: np.ndarray, px: int) -> np.ndarray:
    """Pixels just outside ``region`` within ``px`` pixels: the bright septum / capsule around a structure."""
    return ndimage.binary_dilation(region, iterations=max(1, px)) & ~region


def build_tissue(params: PhantomParams, size: int, rng: np.random.Generator) -> Tissue:
    """Draw the layered anatomy and the lesion of ``params`` on a ``size x size`` grid (seeded by ``rng``).

    Echogenicity (backscatter power relative to gland) and stiffness are set per structure; what links them to
    each other is documented in :mod:`usegan.phantom.case` (lesion types) and in this module's docstring.
    """
    if size < 16:
        raise ValueError(f"phantom size must be at least 16 pixels, got {size!r}")
    mm = params.fov_mm / size
    depth = (np.arange(size, dtype=np.float32)[:, None] + 0.5) * mm
    x = np.arange(size, dtype=np.float32)[None, :] * mm
    fat_bottom = params.skin_mm + np.maximum(_interface(rng, x, params.fat_mm, 0.22), 0.5)
    muscle_top = (
        params.fov_mm
        - params.chest_wall_mm
        - params.muscle_mm * (1 + 0.15 * np.sin(2 * np.pi * x / 25 + rng.uniform(0, 6.3)))
    )
    chest_top = params.fov_mm - params.chest_wall_mm * (1 + 0.1 * np.sin(2 * np.pi * x / rng.uniform(15, 40)))
    labels = np.full((size, size), GLAND, dtype=np.int8)
    labels[depth < fat_bottom] = FAT
    labels[np.broadcast_to(depth < params.skin_mm, labels.shape)] = SKIN
    if params.retro_fat_mm > 0:
        labels[(depth >= muscle_top - params.retro_fat_mm) & (depth < muscle_top) & (labels == GLAND)] = RETRO_FAT
    labels[depth >= muscle_top] = MUSCLE
    if params.chest_wall_mm > 0:
        labels[depth >= chest_top] = CHEST_WALL

    fat = labels == FAT
    # Fat lobules: cells of a laterally stretched random field; their borders are Cooper's ligaments / septa.
    cells = anisotropic_noise(rng, (size, size), 1.0 / mm, 2.6 / mm)
    ligament = fat & (np.abs(cells) < params.septa_width)
    gland = labels == GLAND
    # Fat islands inside the gland: dark, elongated lobules with a thin bright rim.
    islands = anisotropic_noise(rng, (size, size), 1.0 / mm, 2.8 / mm)
    threshold = rng.uniform(0.2, 1.1)
    gland_fat = gland & (islands > threshold)
    gland_rim = gland & _rims(gland_fat, int(round(0.35 / mm))) & ~gland_fat
    labels[ligament] = LIGAMENT

    satellite = np.zeros((size, size), dtype=bool)
    for _ in range(params.satellites):
        satellite |= _satellite(params, size, mm, gland & ~gland_fat, rng)

    lesion, halo = lesion_masks(params, size, rng)
    satellite &= ~ndimage.binary_dilation(lesion | halo, iterations=max(1, int(1.5 / mm)))
    labels[satellite] = SATELLITE
    labels[halo] = HALO
    labels[lesion] = LESION

    texture = smooth_noise(rng, (size, size), sigma_px=0.5 / mm)
    layered = anisotropic_noise(rng, (size, size), 0.35 / mm, 1.6 / mm)
    density = anisotropic_noise(rng, (size, size), 3.0 / mm, 8.0 / mm)
    stiff_var = smooth_noise(rng, (size, size), sigma_px=3.0 / mm)
    stiffness = np.empty((size, size), dtype=np.float32)
    stiffness[:] = params.gland_kpa * np.exp(0.08 * stiff_var)
    stiffness[fat | (labels == LIGAMENT)] = params.fat_kpa
    stiffness[gland_fat] = params.fat_kpa * 1.3
    stiffness[labels == RETRO_FAT] = params.fat_kpa * 1.05
    stiffness[labels == SKIN] = 1.5 * params.gland_kpa
    stiffness[labels == MUSCLE] = 1.2 * params.gland_kpa
    stiffness[labels == CHEST_WALL] = 1.4 * params.gland_kpa
    stiffness[satellite] = _satellite_kpa(params)
    stiffness[halo] = params.halo_kpa
    stiffness[lesion] = _lesion_stiffness(params, lesion, rng, mm)

    echo = np.empty((size, size), dtype=np.float32)
    # glandular parenchyma: bright, patchy, laterally layered (mean ~1)
    echo[:] = np.exp(0.6 * layered + 0.45 * density + 0.25 * texture - 0.25)
    # fat lobules: hypoechoic to gland (~ -8 dB) but the reference "iso-echoic" level of breast sonography: a
    # carcinoma is darker than fat (markedly hypoechoic), a fibroadenoma about as dark or brighter
    echo[fat] = params.fat_echo * np.exp(0.35 * texture[fat] + 0.2 * layered[fat])
    echo[gland_fat] = 0.14 * np.exp(0.3 * texture[gland_fat])
    echo[gland_rim] *= 2.5
    echo[labels == RETRO_FAT] = 0.14
    echo[labels == LIGAMENT] = params.septa_echo  # Cooper's ligaments: thin echogenic septa
    echo[labels == SKIN] = params.skin_echo
    muscle = labels == MUSCLE
    slope = rng.uniform(-0.25, 0.25)
    striation = np.sin((depth + slope * x) * 2 * np.pi / rng.uniform(1.0, 1.8) + 0.3 * texture) > 0.7
    echo[muscle] = np.where(striation, 0.6, 0.1)[muscle] * np.exp(0.2 * layered[muscle])
    fascia = _rims(~muscle & (depth < muscle_top), int(round(0.3 / mm))) & muscle
    echo[fascia] = 2.0
    chest = labels == CHEST_WALL
    if chest.any():
        echo[chest] = 0.01 * np.exp(0.5 * texture[chest])
        pleura = chest & ~np.roll(chest, int(max(1, round(0.4 / mm))), axis=0)
        echo[pleura] = 1.5
    if satellite.any():
        echo[satellite] = np.where(_satellite_is_cyst(params), 0.002, 0.25)
        echo[_rims(satellite, 1) & ~lesion & ~halo] = 1.8
    if params.lesion_type != "none":
        _lesion_echo(params, echo, lesion, texture, mm, rng)

    atten = np.full((size, size), 0.75, dtype=np.float32)
    atten[fat] = 0.5
    atten[labels == CHEST_WALL] = 1.5
    if satellite.any() and _satellite_is_cyst(params):
        atten[satellite] = 0.05
    atten[lesion] = params.lesion_atten
    _ligament_shadows(params, atten, ligament, mm, rng)
    _edge_drop_out(params, echo, mm, rng)
    return Tissue(labels, stiffness, echo, atten, lesion, halo, fat & ~lesion & ~halo, mm)


def _lesion_echo(
    params: PhantomParams,
    echo: np.ndarray,
    lesion: np.ndarray,
    texture: np.ndarray,
    mm: float,
    rng: np.random.Generator,
) -> None:
    """Write the lesion's B-mode appearance into ``echo`` (in place): echogenicity, rim or capsule, margin blur,
    calcifications."""
    if params.echogenic_rim_mm > 0:  # echogenic halo: a thick bright rim of infiltrated tissue (malignant sign)
        outside = ndimage.distance_transform_edt(~lesion) * mm
        rim = (outside > 0) & (outside <= params.echogenic_rim_mm)
        echo[rim] *= rng.uniform(1.6, 2.6)
    elif params.lesion_type.startswith("malignant"):
        rim = ndimage.binary_dilation(lesion, iterations=max(1, int(0.6 / mm))) & ~lesion
        echo[rim] *= 1.5
    inside = params.lesion_echo * np.exp(0.3 * texture)
    if params.lesion_type == "cyst":
        inside = np.full_like(echo, params.lesion_echo)
        echo[_rims(lesion, 1)] = 2.0  # cyst walls are thin specular reflectors
    elif params.lesion_type in ("fibroadenoma",) and params.margin_mm == 0:
        echo[_rims(lesion, 1)] *= 1.6  # thin echogenic capsule of a circumscribed benign mass
    if params.margin_mm > 0:  # indistinct margin: the lesion's echo fades into its surroundings
        weight = ndimage.gaussian_filter(lesion.astype(np.float32), params.margin_mm / mm)
        weight = np.where(lesion, np.maximum(weight, 0.5), weight)
        log_echo = np.log(np.maximum(echo, 1e-4)) * (1 - weight) + np.log(np.maximum(inside, 1e-4)) * weight
        echo[:] = np.exp(log_echo)
    else:
        echo[lesion] = inside[lesion]
    if params.calcifications > 0:
        rows, cols = np.nonzero(ndimage.binary_erosion(lesion, iterations=1) | lesion)
        picks = rng.choice(rows.size, size=min(params.calcifications, rows.size), replace=False)
        echo[rows[picks], cols[picks]] = rng.uniform(8, 20, size=picks.size)


def _satellite_is_cyst(params: PhantomParams) -> bool:
    """Satellites of a case are all of one kind, fixed by its parameters: simple cysts or soft solid nodules."""
    return (params.satellites + int(params.fat_mm * 10)) % 2 == 0


def _satellite_kpa(params: PhantomParams) -> float:
    return 3.0 if _satellite_is_cyst(params) else params.gland_kpa * 0.9


def _satellite(
    params: PhantomParams, size: int, mm: float, allowed: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A small oval nodule (2-6 mm) centred somewhere in ``allowed``."""
    rows, cols = np.nonzero(allowed)
    out = np.zeros((size, size), dtype=bool)
    if rows.size == 0:
        return out
    i = int(rng.integers(rows.size))
    half_w = rng.uniform(1.0, 3.0) / mm
    half_h = half_w * rng.uniform(0.5, 0.9)
    yy, xx = np.mgrid[0:size, 0:size]
    out[((yy - rows[i]) / half_h) ** 2 + ((xx - cols[i]) / half_w) ** 2 <= 1.0] = True
    return out & allowed


def _ligament_shadows(
    params: PhantomParams, atten: np.ndarray, ligament: np.ndarray, mm: float, rng: np.random.Generator
) -> None:
    """Give a few short ligament segments a high attenuation, so each casts a thin vertical shadow (refraction at
    an oblique ligament, seen on most real scans), and ``broad_shadows`` wider ones (``shadow_width_*_mm`` wide,
    phantom-3 3-10 mm; ``shadow_db_*`` darker below their origin in the fat or the upper gland, phantom-3 6-20 dB;
    soft edges): on the real scans the largest dark regions are such shadows, and a model that reads "dark" as
    "stiff" paints them hard. Appearance only, not stiffness."""
    rows, cols = np.nonzero(ligament)
    if rows.size and params.ligament_shadows > 0:
        width = max(1, int(round(rng.uniform(0.3, 0.8) / mm)))
        for i in rng.choice(rows.size, size=min(params.ligament_shadows, rows.size), replace=False):
            r, c = rows[i], cols[i]
            atten[r : r + max(1, int(0.5 / mm)), max(0, c - width // 2) : c + width // 2 + 1] = rng.uniform(6.0, 14.0)
    size = atten.shape[1]
    for _ in range(params.broad_shadows):
        top = int(rng.uniform(params.skin_mm + 0.5, 0.5 * params.fov_mm) / mm)
        thick = max(1, int(round(rng.uniform(1.0, 3.0) / mm)))  # a gradual onset, not a step
        centre = rng.uniform(0, size)
        half = 0.5 * rng.uniform(params.shadow_width_low_mm, params.shadow_width_high_mm) / mm
        # two-way loss over the origin band, 2 * f * a * t, at the default 7.5 MHz (phantom-3: partial, not black)
        loss = rng.uniform(params.shadow_db_low, params.shadow_db_high) / (2.0 * 7.5 * thick * mm / 10.0)
        distance = np.abs(np.arange(size) - centre)
        profile = np.where(distance < half, 0.5 * (1.0 + np.cos(np.pi * distance / half)), 0.0)  # soft edges
        band = atten[top : top + thick]
        band[:] = np.maximum(band, loss * profile[None, :]).astype(atten.dtype)


def _edge_drop_out(params: PhantomParams, echo: np.ndarray, mm: float, rng: np.random.Generator) -> None:
    """Darken bands along the left / right image edges (in place): the outer elements of a linear probe that lose
    skin contact or fire weakly leave the image's lateral margins 10-25 dB darker, fading in over the band's width,
    as on many real scans. Appearance only: a model that reads a dark region at the image edge as a carcinoma cut
    by the edge paints it stiff (docs/fidelity.md)."""
    width = echo.shape[1]
    x = np.arange(width, dtype=np.float32)
    for band_mm, distance in ((params.edge_dark_left_mm, x), (params.edge_dark_right_mm, width - 1 - x)):
        if band_mm <= 0:
            continue
        band = band_mm / mm
        loss_db = rng.uniform(10.0, 25.0)
        ramp = np.where(distance < band, 0.5 * (1.0 + np.cos(np.pi * distance / band)), 0.0)  # 1 at the edge
        echo *= (10.0 ** (-loss_db * ramp / 10.0)).astype(echo.dtype)[None, :]


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
