"""One paired phantom case: parameters -> tissue -> B-mode, true strain, SE and SWE elastograms, mask, labels.

>>> case = make_case(teaching_params("malignant", size_mm=10, depth_mm=16, stiffness_ratio=5), size=128)
>>> case.bmode.shape, case.strain_rgb.shape, case.labels["tsukuba"]  # doctest: +SKIP
((128, 128), (128, 128, 3), 4)

Stiffness is only *partly* predictable from the B-mode, as in real tissue (docs/domain.md): echogenicity,
shape and stiffness are drawn per lesion type from overlapping distributions (hypoechoic soft fibroadenomas,
iso-echoic stiff lesions, carcinomas that are not always spiculated, ...).

The physics that links appearance to stiffness, explicitly (what the model can learn, and what it cannot):

* **always stiff**: carcinoma (``malignant``, ``malignant_halo``, ``iso_stiff``: 70-170 kPa, 4.5-8x the gland) —
  the desmoplastic reaction that stiffens it also makes it hypoechoic, irregular / angular / spiculated /
  microlobulated, often taller than wide, often shadowing (attenuation 1.2-2.4 dB/cm/MHz), sometimes with an
  echogenic halo or microcalcifications; but 15 % are not hypoechoic and ``iso_stiff`` lesions are invisible.
* **sometimes stiff**: fibroadenomas are usually about as soft as the gland; mosaic or core patterns hold stiff
  parts (Tsukuba 2-3) with no B-mode sign of them.
* **never stiff**: fluid (cysts, 1.5-4 kPa; anechoic with a bright wall and posterior enhancement; shown as the
  blue-green-red artefact on strain), fat lobules (5-10 kPa), satellite nodules.
* **appearance only, no stiffness**: ligament refraction shadows and broad shadows, dark lateral edge bands,
  speckle, TGC, gain and every scanner setting (:mod:`usegan.phantom.scanner`), overlays and compression. The dark
  chest wall is anatomy, not an artefact: its tissue is 1.4x the gland's modulus, below every hard threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from usegan.phantom.bmode import BModeConfig, simulate_bmode
from usegan.phantom.labels import compute_labels
from usegan.phantom.mechanics import MechanicsConfig, axial_strain
from usegan.phantom.render import (
    Box,
    RenderConfig,
    bgr_artifact,
    choose_box,
    normalise_strain,
    render_strain,
    render_swe,
)
from usegan.phantom.scanner import Display, burn_overlays, jpeg_roundtrip, sample_fov, sample_scanner
from usegan.phantom.tissue import LESION_TYPES, SHAPES, PhantomParams, build_tissue

PHANTOM_VERSION = "phantom-3"  # 2: broad shadows, deeper chest walls; 3: dark lateral edge bands


@dataclass(frozen=True)
class PhantomCase:
    """A simulated case; every image is ``(H, W)`` / ``(H, W, 3)`` with ``H = W = size``."""

    params: PhantomParams  # anatomy and stiffness
    seed: int  # seed of the texture / speckle draws
    bmode: np.ndarray  # uint8 log-compressed B-mode
    envelope: np.ndarray  # float32 pre-log envelope (gland ~1)
    stiffness_kpa: np.ndarray  # float32 Young's modulus, kPa
    strain: np.ndarray  # float32 true axial strain (compression positive)
    strain_normalised: np.ndarray  # float32 in [0, 1] (1 = soft), NaN outside the box: what labels are scored on
    strain_rgb: np.ndarray  # uint8 SE elastogram (colour in the box, B-mode outside)
    swe_rgb: np.ndarray  # uint8 SWE elastogram
    mask: np.ndarray  # bool lesion mask (halo excluded)
    box: Box  # elastography box (x, y, w, h), pixels
    labels: dict  # see usegan.phantom.labels.compute_labels
    bmode_config: BModeConfig = BModeConfig()  # imaging settings used
    render_config: RenderConfig = RenderConfig()  # colour scales used
    mechanics_config: MechanicsConfig = MechanicsConfig()  # strain solve settings used
    extra: dict = field(default_factory=dict)  # free-form notes
    display: Display = Display()  # overlays / compression burned into the B-mode

    @property
    def size(self) -> int:
        return int(self.bmode.shape[0])

    def meta(self) -> dict:
        """JSON-ready description: seed, params, box, colour scales of both modes, labels, settings."""
        x, y, w, h = self.box
        return {
            "version": PHANTOM_VERSION,
            "seed": int(self.seed),
            "size": self.size,
            "mm_per_px": self.params.fov_mm / self.size,
            "params": asdict(self.params),
            "box": {"x": int(x), "y": int(y), "w": int(w), "h": int(h)},
            "modes": {
                "strain": {
                    "file": "strain.png",
                    "colormap": "strain",
                    "convention": "red = soft (high strain), green = intermediate, blue = hard",
                    "vmin": 0.0,
                    "vmax": 1.0,
                    "unit": "normalised strain",
                    "scale": self.render_config.strain_scale(),
                },
                "swe": {
                    "file": "swe.png",
                    "colormap": "swe",
                    "convention": "blue = soft, red = stiff",
                    "vmin": self.render_config.swe_vmin_kpa,
                    "vmax": self.render_config.swe_vmax_kpa,
                    "unit": "kPa",
                },
            },
            "labels": self.labels,
            "bmode": asdict(self.bmode_config),
            "mechanics": asdict(self.mechanics_config),
            "display": asdict(self.display),
            "extra": self.extra,
        }


def make_case(
    params: PhantomParams,
    seed: int = 0,
    size: int = 256,
    bmode_config: BModeConfig | None = None,
    mechanics_config: MechanicsConfig = MechanicsConfig(),
    render_config: RenderConfig = RenderConfig(),
    display: Display = Display(),
    full_field: bool = False,
) -> PhantomCase:
    """Build one case from explicit parameters (the teaching API). Deterministic in ``(params, seed, size)``.

    ``bmode_config`` defaults to :class:`BModeConfig` with the focus at the lesion depth, as an operator sets it.
    ``display`` overlays and compression change the B-mode image only (after the elastograms are rendered).
    ``full_field``: the elastography box is the whole image below the skin line (the app shows a full-field
    virtual elastogram, so the model must also see skin, chest wall and image edges in training).
    """
    if bmode_config is None:
        bmode_config = BModeConfig(focus_mm=params.depth_mm)
    tissue_rng, speckle_rng, box_rng, display_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    tissue = build_tissue(params, size, tissue_rng)
    bmode = simulate_bmode(tissue.echo, tissue.atten, tissue.mm_per_px, speckle_rng, bmode_config)
    strain = axial_strain(tissue.stiffness_kpa, mechanics_config)
    skin_px = int(np.ceil(params.skin_mm / tissue.mm_per_px))
    box = choose_box((size, size), tissue.lesion_mask, skin_px, box_rng)
    if full_field:
        box = (0, min(skin_px, size - 8), size, size - min(skin_px, size - 8))
    normalised = normalise_strain(strain, box, render_config)
    shown = bgr_artifact(normalised, tissue.lesion_mask) if params.lesion_type == "cyst" else normalised
    labels = compute_labels(
        params.lesion_type, strain, normalised, tissue.stiffness_kpa, tissue.lesion_mask, tissue.fat_mask, box
    )
    shown_bmode = burn_overlays(bmode.image, display, tissue.mm_per_px, bmode_config.focus_mm, display_rng)
    shown_bmode = jpeg_roundtrip(shown_bmode, display.jpeg_quality)
    return PhantomCase(
        params=params,
        seed=int(seed),
        bmode=shown_bmode,
        envelope=bmode.envelope,
        stiffness_kpa=tissue.stiffness_kpa,
        strain=strain,
        strain_normalised=normalised,
        strain_rgb=render_strain(bmode.image, shown, box),
        swe_rgb=render_swe(bmode.image, tissue.stiffness_kpa, box, render_config),
        mask=tissue.lesion_mask,
        box=box,
        labels=labels,
        bmode_config=bmode_config,
        render_config=render_config,
        mechanics_config=mechanics_config,
        display=display,
    )


def sample_params(rng: np.random.Generator, lesion_type: str, fov_mm: float = 40.0) -> PhantomParams:
    """Draw anatomy and stiffness for ``lesion_type`` (see the per-type comments for the intended Tsukuba class)."""
    if lesion_type not in LESION_TYPES:
        raise ValueError(f"lesion_type must be one of {LESION_TYPES}, got {lesion_type!r}")
    u = rng.uniform
    gland = u(15, 40)
    scale = fov_mm / 40.0
    base = {
        "lesion_type": lesion_type,
        "skin_mm": u(1.2, 2.5),
        "fat_mm": u(3, 13) * scale,
        "muscle_mm": u(3, 9) * scale,
        "fat_kpa": u(5, 10),
        "gland_kpa": gland,
        "fov_mm": fov_mm,
        "angle_deg": u(-20, 20),
        # one lesion in ten is cut by the image edge
        "lateral_mm": (u(-0.15, 0.15) if rng.random() < 0.9 else rng.choice([-1, 1]) * u(0.38, 0.48)) * fov_mm,
        "retro_fat_mm": 0.0 if rng.random() < 0.5 else u(1.0, 3.0),
        "chest_wall_mm": 0.0 if rng.random() < 0.3 else u(3.0, 12.0) * scale,
        "satellites": int(rng.choice([0, 0, 0, 1, 2])),
        "ligament_shadows": int(rng.integers(0, 7)),
    }
    if lesion_type == "cyst":  # anechoic, enhancement, fluid: soft; BGR artefact on SE
        spec = {
            "shape": rng.choice(["round", "oval", "lobulated"], p=[0.4, 0.5, 0.1]),
            "aspect": u(0.5, 1.0),
            "size_mm": u(4, 16),
            "lesion_kpa": u(1.5, 4),
            # one in four is a complicated cyst with low-level internal echoes
            "lesion_echo": 0.0003 if rng.random() < 0.75 else u(0.01, 0.06),
            "lesion_atten": u(0.03, 0.2),
        }
    elif lesion_type == "fibroadenoma":  # oval, circumscribed, hypo- to iso-echoic; Tsukuba 1, 2 or 3
        pattern = str(rng.choice(["uniform", "mosaic", "core"], p=[0.4, 0.3, 0.3]))
        soft = gland * u(0.85, 1.25)
        spec = {
            "shape": rng.choice(["oval", "round", "lobulated", "microlobulated"], p=[0.5, 0.15, 0.3, 0.05]),
            "aspect": u(0.45, 0.85),
            "size_mm": u(6, 20),
            "pattern": pattern,
            "lesion_soft_kpa": soft,
            "lesion_kpa": soft if pattern == "uniform" else min(gland * u(4.5, 7), 170.0),
            "lesion_echo": u(0.1, 0.9),  # about as dark as fat or brighter (iso- to mildly hypoechoic)
            "lesion_atten": u(0.4, 0.9),
            "margin_mm": 0.0 if rng.random() < 0.85 else u(0.2, 0.6),
            "calcifications": 0 if rng.random() < 0.9 else int(rng.integers(1, 4)),  # coarse, benign
        }
    elif lesion_type in ("malignant", "malignant_halo"):  # hypoechoic, irregular, shadowing, stiff; 4 (5 w/ halo)
        shape = str(
            rng.choice(
                ["spiculated", "angular", "irregular", "microlobulated", "lobulated", "round", "oval"],
                p=[0.3, 0.18, 0.2, 0.14, 0.08, 0.05, 0.05],
            )
        )
        spec = {
            "shape": shape,
            "aspect": u(0.7, 1.5),
            "size_mm": u(5, 18),
            "lesion_kpa": min(max(gland * u(4.5, 8), 70.0), 170.0),
            # markedly hypoechoic (darker than fat) in 85 %; the rest are only mildly hypoechoic
            "lesion_echo": u(0.004, 0.035) if rng.random() < 0.85 else u(0.05, 0.4),
            "lesion_atten": u(1.1, 2.0) if rng.random() < 0.8 else u(0.75, 1.1),  # not every carcinoma shadows
            "margin_mm": 0.0 if rng.random() < 0.4 else u(0.3, 1.2),
            "echogenic_rim_mm": 0.0 if rng.random() < 0.6 else u(0.8, 2.5),
            "calcifications": 0 if rng.random() < 0.6 else int(rng.integers(3, 13)),
        }
        if lesion_type == "malignant_halo":
            # A halo thick enough to fill the scoring ring (0.3 x equivalent radius) and about as stiff as the
            # lesion; a smaller lesion so lesion + halo leave the box enough background to normalise against.
            size = u(6, 11)
            spec |= {
                "size_mm": size,
                "halo_kpa": min(max(gland * u(5, 7), 80.0), 165.0),
                "halo_mm": max(2.0, u(0.25, 0.35) * size),
            }
    elif lesion_type == "iso_stiff":  # iso-echoic but stiff: invisible on B-mode, Tsukuba 4
        spec = {
            "shape": rng.choice(["round", "oval", "lobulated", "irregular"]),
            "aspect": u(0.6, 1.1),
            "size_mm": u(7, 14),
            "lesion_kpa": min(max(gland * u(4.5, 8), 70.0), 170.0),
            "lesion_echo": u(0.85, 1.15),
            "lesion_atten": u(0.75, 1.0),
            "margin_mm": u(0.0, 1.0),
        }
    else:  # "none": a lesion-free field of view
        spec = {"shape": "oval", "size_mm": 10.0, "aspect": 0.7, "lesion_kpa": gland, "lesion_echo": 1.0}
    spec["shape"] = str(spec["shape"])
    params = PhantomParams(**base, **spec, depth_mm=fov_mm / 2)
    params = replace(params, depth_mm=_lesion_depth(params, rng))
    return _dark_regions(params, rng)


def _dark_regions(p: PhantomParams, rng: np.random.Generator) -> PhantomParams:
    """The dark regions of phantom-2 and -3, drawn after everything else (earlier phantoms' draws stay as they
    were): one scan in two has one or two broad shadows, one in five a deep chest wall (12-16 mm at 40 mm, up to
    40 % of the view, as on many real scans) where the lesion still fits above it, and (phantom-3) one in three a
    dark band of 2-8 mm along one lateral edge (both edges in one of ten). Shadows and edge bands change the B-mode
    only; a deep chest wall is anatomy (chest-wall tissue, 1.4x gland, where gland or muscle was)."""
    shadows = int(rng.choice([0, 0, 1, 1, 2]))
    deep = rng.uniform(12.0, 16.0) * p.fov_mm / 40.0
    half_h = _lesion_half_height(p)
    room = p.fov_mm - deep - p.retro_fat_mm - 1.2 * p.muscle_mm - (p.depth_mm + half_h + 1.0)
    chest = deep if rng.random() < 0.2 and (p.lesion_type == "none" or room > 0) else p.chest_wall_mm
    edges = {"edge_dark_left_mm": 0.0, "edge_dark_right_mm": 0.0}
    u = rng.random()
    if u < 0.1:
        edges = {k: float(rng.uniform(2.0, 8.0)) for k in edges}
    elif u < 0.33:
        edges[str(rng.choice(sorted(edges)))] = float(rng.uniform(2.0, 8.0))
    return replace(p, broad_shadows=shadows, chest_wall_mm=chest, **edges)


SHALLOW_FAT_MM = (1.0, 3.0)  # a raised lesion's subcutaneous fat thickness at a 40 mm view, mm
SHALLOW_SPAN_MM = 3.0  # how far below the top of the gland a raised lesion's top may lie, mm


def raise_lesion(p: PhantomParams, rng: np.random.Generator) -> PhantomParams:
    """``p`` with a thin subcutaneous fat layer (:data:`SHALLOW_FAT_MM`, scaled with the view) and its lesion at the
    top of the gland: the lesion's top (with its halo) lies 1 to 1 + :data:`SHALLOW_SPAN_MM` mm below the fat, a few
    millimetres under the skin and near the top of the image and of its box. Everything else (type, size, shape,
    echo, stiffness) stays as drawn, so a lesion's depth says nothing about its stiffness. Made because phantom-3
    never puts a lesion above about a third of the view (:func:`_lesion_depth` keeps it below 1.2 x a 3-13 mm fat
    layer), while on lesions drawn into real scans strain v4 read shallow carcinomas soft
    (docs/fidelity.md, "Lesions drawn into real scans")."""
    fat = float(rng.uniform(*SHALLOW_FAT_MM)) * p.fov_mm / 40.0
    top = p.skin_mm + 1.2 * fat + _lesion_half_height(p) + 1.0
    # never deeper than drawn (a lesion too big for its view keeps the middle depth _lesion_depth gave it)
    return replace(p, fat_mm=fat, depth_mm=min(top + float(rng.uniform(0.0, SHALLOW_SPAN_MM)), p.depth_mm))


SUPERFICIAL_LOOK = {  # brighten_superficial's ranges (phantom-3: skin 2.5, fat 0.16, septa 3.0 at width 0.12)
    "skin_echo": (8.0, 25.0),
    "septa_echo": (8.0, 16.0),
    "septa_width": (0.18, 0.28),
    "fat_echo": (0.25, 0.5),
}


def brighten_superficial(p: PhantomParams, rng: np.random.Generator) -> PhantomParams:
    """``p`` with the skin and subcutaneous layer drawn to look like the real scans' (:data:`SUPERFICIAL_LOOK`): a
    bright skin line, brighter fat lobules and thicker, brighter septa (Cooper's ligaments) between them. Appearance
    only: stiffness, the lesion and everything below the fat stay. Made because the phantom-3 top third is the part
    of the image furthest from the real scans (``usegan.phantom.realism.compare_bands``: darker, flatter) and the
    bundled models misread lesions among real superficial tissue that they read right among the phantom's
    (docs/fidelity.md, "The lesion or the tissue around it?")."""
    return replace(p, **{name: float(rng.uniform(lo, hi)) for name, (lo, hi) in SUPERFICIAL_LOOK.items()})


DARK_SHADOW_LOOK = {  # deepen_shadows' ranges (phantom-3: 6-20 dB over 3-10 mm, none in half of the scans)
    "shadow_db_low": (15.0, 20.0),
    "shadow_db_high": (30.0, 40.0),
    "shadow_width_low_mm": (4.0, 6.0),
    "shadow_width_high_mm": (12.0, 16.0),
}


def deepen_shadows(p: PhantomParams, rng: np.random.Generator) -> PhantomParams:
    """``p`` with one or two broad posterior shadows as dark and wide as the real scans' (:data:`DARK_SHADOW_LOOK`:
    up to 40 dB below their origin, up to 16 mm wide; phantom-3's are 6-20 dB and 3-10 mm, partial, not black).
    Appearance only: stiffness and strain stay (a shadow hides tissue, it does not stiffen it). Made because the
    bundled SWE model paints the broad near-black shadows of the real normal scans stiff red (docs/fidelity.md)."""
    looks = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in DARK_SHADOW_LOOK.items()}
    return replace(p, broad_shadows=int(rng.integers(1, 3)), **looks)


# random_case_of_type's appearance options: keyword -> (the tag of its own random stream, what it restyles). Each
# changes the B-mode only, for a share of all cases (lesion-free views too).
RESTYLES = {"superficial": (0x5A12, brighten_superficial), "dark_shadows": (0x5A13, deepen_shadows)}


def _lesion_half_height(p: PhantomParams) -> float:
    """Half the vertical extent of ``p``'s lesion and halo with a 20 % allowance for its outline, mm."""
    return 0.5 * p.size_mm * max(p.aspect, 1.0) * 1.2 + p.halo_mm


def _lesion_depth(p: PhantomParams, rng: np.random.Generator) -> float:
    """A centre depth that keeps the lesion (and halo) inside the gland, between fat and muscle."""
    half_h = _lesion_half_height(p)
    top = p.skin_mm + 1.2 * p.fat_mm + half_h + 1.0
    bottom = p.fov_mm - p.chest_wall_mm - p.retro_fat_mm - 1.2 * p.muscle_mm - half_h - 1.0
    return float(rng.uniform(top, bottom)) if bottom > top else 0.5 * (top + bottom)


def teaching_params(
    lesion_type: str = "malignant",
    size_mm: float | None = None,
    depth_mm: float | None = None,
    stiffness_ratio: float | None = None,
    shape: str | None = None,
    seed: int = 0,
) -> PhantomParams:
    """Parameters for the teaching page: a typical ``lesion_type`` with chosen size, depth, shape and stiffness
    ratio (lesion modulus / gland modulus; a halo keeps its own ratio to the gland)."""
    params = sample_params(np.random.default_rng(seed), lesion_type)
    # a typical case for a class: one lesion in the gland, no chest wall or satellites crowding the box
    changes: dict = {
        "chest_wall_mm": 0.0,
        "retro_fat_mm": 0.0,
        "satellites": 0,
        "lateral_mm": params.lateral_mm * 0.3,
        "broad_shadows": 0,
        "edge_dark_left_mm": 0.0,
        "edge_dark_right_mm": 0.0,
    }
    if size_mm is not None:
        changes["size_mm"] = float(size_mm)
    if depth_mm is not None:
        changes["depth_mm"] = float(depth_mm)
    if shape is not None:
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
        changes["shape"] = shape
    if stiffness_ratio is not None:
        if not stiffness_ratio > 0:
            raise ValueError(f"stiffness_ratio must be positive, got {stiffness_ratio!r}")
        changes["lesion_kpa"] = params.gland_kpa * float(stiffness_ratio)
        if params.pattern == "uniform":
            changes["lesion_soft_kpa"] = changes["lesion_kpa"]
    return replace(params, **changes)


def case_seed(seed: int, index: int) -> int:
    """Seed of case ``index`` of a run seeded with ``seed``: independent streams, stable across worker counts."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def random_case(
    seed: int, size: int = 256, types: tuple[str, ...] | list[str] | None = None, scanner: str = "training"
) -> PhantomCase:
    """A random case: lesion type drawn from ``types`` (default all), anatomy from :func:`sample_params`, and a
    random imaging chain from the ``scanner`` profile (:func:`usegan.phantom.scanner.sample_scanner`)."""
    types = tuple(types or LESION_TYPES)
    for t in types:
        if t not in LESION_TYPES:
            raise ValueError(f"unknown lesion type {t!r}; choose from {LESION_TYPES}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xCA5E]))
    return random_case_of_type(seed, str(rng.choice(types)), size, rng, scanner)


def random_case_of_type(
    seed: int,
    lesion_type: str,
    size: int = 256,
    rng: np.random.Generator | None = None,
    scanner: str = "training",
    small_in_frame: float = 0.0,
    shallow: float = 0.0,
    superficial: float = 0.0,
    dark_shadows: float = 0.0,
) -> PhantomCase:
    """A random case of a given lesion type (used by the CLI to balance types round-robin); ``scanner`` picks the
    imaging-chain ranges ("training", or "held-out" for the held-out scanner test set).

    ``small_in_frame`` in [0, 1]: the share of lesion cases shown small in a whole field (:func:`shrink_lesion`,
    a full-field box); ``shallow`` in [0, 1]: the share of lesion cases moved up under a thin subcutaneous fat
    layer (:func:`raise_lesion`); ``superficial`` in [0, 1]: the share of all cases whose skin and subcutaneous
    layer look like the real scans' (:func:`brighten_superficial`); ``dark_shadows`` in [0, 1]: the share of all
    cases with broad shadows as dark as the real scans' (:func:`deepen_shadows`). All 0 give phantom-3 exactly.
    Each draw has its own random stream, so the other cases of a run are the same whatever the shares.
    """
    looks = {"superficial": superficial, "dark_shadows": dark_shadows}  # the shares of RESTYLES
    for name, share in {"small_in_frame": small_in_frame, "shallow": shallow, **looks}.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {share!r}")
    rng = rng or np.random.default_rng(np.random.SeedSequence([int(seed), 0xCA5E]))
    scanner_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5CA7]))
    params = sample_params(rng, lesion_type, fov_mm=sample_fov(scanner_rng, scanner))
    bmode, display = sample_scanner(scanner_rng, params.depth_mm, params.fov_mm, scanner)
    full_field = bool(scanner_rng.random() < 0.4)
    small_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5A11]))
    small = lesion_type != "none" and bool(small_rng.random() < small_in_frame)
    shallow_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5A10]))
    raised = lesion_type != "none" and bool(shallow_rng.random() < shallow)
    drawn = params
    if small:
        params, full_field = shrink_lesion(params, small_rng), True
    if raised:
        params = raise_lesion(params, shallow_rng)
    restyled = {}
    for name, (tag, restyle) in RESTYLES.items():
        look_rng = np.random.default_rng(np.random.SeedSequence([int(seed), tag]))
        restyled[name] = bool(look_rng.random() < looks[name])
        if restyled[name]:  # appearance only: the lesion, its depth and the focus stay
            params = restyle(params, look_rng)
    if params.depth_mm != drawn.depth_mm:  # the focus keeps its drawn offset from the lesion
        focus = float(np.clip(bmode.focus_mm + params.depth_mm - drawn.depth_mm, 3.0, params.fov_mm - 2.0))
        bmode = replace(bmode, focus_mm=focus)
    case = make_case(params, seed=seed, size=size, bmode_config=bmode, display=display, full_field=full_field)
    drawn_here = {"small_in_frame": small, "shallow": raised, **restyled}
    notes = {name: True for name, happened in drawn_here.items() if happened}
    return replace(case, extra={**case.extra, **notes}) if notes else case


SMALL_LESION_SPAN = (0.1, 0.22)  # a small-in-frame lesion's width over the field of view


def shrink_lesion(p: PhantomParams, rng: np.random.Generator) -> PhantomParams:
    """``p`` with its lesion redrawn small in the field of view: width :data:`SMALL_LESION_SPAN` of the view (3-11 mm
    at the training scanner's 30-50 mm; about 26-56 px of a 256 px image, where the lesions of a box crop span 60-230
    px), a halo scaled with it, at a new depth inside the gland. Type, shape, echo and stiffness stay: small cysts
    soft, small carcinomas stiff, so size alone says nothing about stiffness. Margin, echogenic rim and calcification
    count are kept as drawn for the larger lesion (a small lesion can have a rim as thick as itself). Made for the
    whole images of a second simulator, in which the bundled models read small carcinomas soft (docs/fidelity.md,
    "Framing decides")."""
    size = float(rng.uniform(*SMALL_LESION_SPAN)) * p.fov_mm
    halo = p.halo_mm * size / p.size_mm if p.halo_mm > 0 else 0.0
    small = replace(p, size_mm=size, halo_mm=halo)
    return replace(small, depth_mm=_lesion_depth(small, rng))
