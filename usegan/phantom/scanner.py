"""Scanner and operator variety: a random imaging chain per case, and what the screen burns into the B-mode.

Real B-mode images differ far more between scanners, presets and operators than between two patients' glands:
probe frequency and beam width, focus, speckle development and the scanner's speckle-reduction / compounding look,
dynamic range, gain, TGC errors, noise, near-field reverberation, field of view; and screen captures carry text,
calipers with dotted lines, a depth scale and a focus marker, often JPEG-compressed. A model trained on one
imaging chain learns that chain. :func:`sample_scanner` draws one chain per case from ``TRAINING`` ranges, or from
``HELD_OUT`` ranges that lie *outside* them (the held-out scanner test set), or from ``ONE_CHAIN`` (the
randomisation ablation: every setting at the middle of its training range, gain and dynamic range jittered, no
overlays, reverberation or JPEG, as the phantom rendered before the imaging chain was randomised);
a ``held-out:<group>`` profile (``SHIFTS``) moves one group of settings (``SHIFT_GROUPS``) to the held-out ranges,
to say which departure costs what; :func:`burn_overlays` and :func:`jpeg_roundtrip` change the B-mode only (the
elastogram's truth is the tissue's, not the screen's).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from usegan.phantom.bmode import BModeConfig

Range = tuple[float, float]


@dataclass(frozen=True)
class ScannerRanges:
    """Uniform ranges of each imaging setting; a tuple of ranges means "drawn from one of these"."""

    frequency_mhz: tuple[Range, ...] = ((6.0, 13.0),)
    axial_fwhm_mm: tuple[Range, ...] = ((0.22, 0.5),)
    lateral_fwhm_mm: tuple[Range, ...] = ((0.6, 1.6),)
    focus_offset_mm: tuple[Range, ...] = ((-8.0, 6.0),)  # transmit focus relative to the lesion depth
    rayleigh_mm: tuple[Range, ...] = ((8.0, 20.0),)
    dynamic_range_db: tuple[Range, ...] = ((45.0, 68.0),)
    gain_db: tuple[Range, ...] = ((-35.0, -21.0),)
    smooth_px: tuple[Range, ...] = ((0.3, 1.5),)
    smooth_lateral_px: tuple[Range, ...] = ((0.0, 2.5),)
    noise_db: tuple[Range, ...] = ((-60.0, -42.0),)
    tgc_slope_db_cm: tuple[Range, ...] = ((-6.5, 0.5),)
    partial_speckle_p: float = 0.4  # probability of partially developed speckle
    scatterer_density: tuple[Range, ...] = ((0.05, 0.6),)
    compounding: tuple[int, ...] = (1, 1, 2, 3)
    reverb_p: float = 0.5  # probability of near-field reverberation
    reverb_db: tuple[Range, ...] = ((-30.0, -15.0),)
    fov_mm: tuple[Range, ...] = ((30.0, 50.0),)
    overlay_p: float = 0.7  # probability of burned-in overlays
    jpeg_p: float = 0.5  # probability of JPEG compression
    jpeg_quality: tuple[Range, ...] = ((35.0, 95.0),)
    font_px: tuple[Range, ...] = ((9.0, 14.0),)
    labels: tuple[str, ...] = field(
        default=("RT BREAST", "LT BREAST", "R 10:00 3CM FN", "L 2:00", "BREAST", "SAG", "TRANS", "GN 52", "DR 60")
    )


TRAINING = ScannerRanges()
HELD_OUT = ScannerRanges(
    frequency_mhz=((14.0, 16.0), (4.0, 5.5)),
    axial_fwhm_mm=((0.55, 0.7), (0.15, 0.2)),
    lateral_fwhm_mm=((1.7, 2.1), (0.4, 0.55)),
    focus_offset_mm=((8.0, 12.0), (-14.0, -10.0)),
    rayleigh_mm=((5.0, 7.0), (22.0, 28.0)),
    dynamic_range_db=((70.0, 80.0), (38.0, 43.0)),
    gain_db=((-39.0, -36.0), (-20.0, -17.0)),
    smooth_px=((1.6, 2.2),),
    smooth_lateral_px=((2.6, 3.5),),
    noise_db=((-40.0, -36.0),),
    tgc_slope_db_cm=((-10.0, -7.5), (1.0, 2.5)),
    partial_speckle_p=0.5,
    scatterer_density=((0.02, 0.04),),
    compounding=(4, 5),
    reverb_p=1.0,
    reverb_db=((-14.0, -10.0),),
    fov_mm=((25.0, 28.0), (55.0, 60.0)),
    overlay_p=1.0,
    jpeg_p=1.0,
    jpeg_quality=((15.0, 30.0),),
    font_px=((15.0, 20.0),),
    labels=("LEFT BREAST 9 O'CLOCK", "ABVS", "MI 1.1 TIS 0.4", "BR SMALL PARTS", "L 3CM FN 4H"),
)


def _one_chain(r: ScannerRanges) -> ScannerRanges:
    """``r`` with every setting fixed at the middle of its first range, except gain and dynamic range."""
    keep = {"dynamic_range_db", "gain_db"}
    fixed = {
        name: ((0.5 * (value[0][0] + value[0][1]),) * 2,)
        for name, value in vars(r).items()
        if name not in keep and isinstance(value, tuple) and value and isinstance(value[0], tuple)
    }
    return ScannerRanges(**fixed, partial_speckle_p=0.0, compounding=(1,), reverb_p=0.0, overlay_p=0.0, jpeg_p=0.0,
                         labels=r.labels)  # fmt: skip


ONE_CHAIN = _one_chain(TRAINING)

#: The held-out scanner's departures from the training ranges, in groups that a scanner or an operator changes
#: together. ``held-out:<group>`` profiles take that group from ``HELD_OUT`` and the rest from ``TRAINING``, so a
#: test set per group says which departure costs the model what (``scripts/robustness_by_shift.py``).
SHIFT_GROUPS: dict[str, tuple[str, ...]] = {
    "beam": ("frequency_mhz", "axial_fwhm_mm", "lateral_fwhm_mm", "focus_offset_mm", "rayleigh_mm"),
    "grey": ("dynamic_range_db", "gain_db", "tgc_slope_db_cm"),
    "smoothing": ("smooth_px", "smooth_lateral_px", "compounding"),
    "speckle": ("partial_speckle_p", "scatterer_density"),
    "noise": ("noise_db", "reverb_p", "reverb_db"),
    "fov": ("fov_mm",),
    "overlays": ("overlay_p", "font_px", "labels"),
    "jpeg": ("jpeg_p", "jpeg_quality"),
}


#: ``held-out:<group>`` profile -> the range settings it takes from ``HELD_OUT``. A case of such a profile is the
#: training-scanner case of the same seed with only those settings' draws replaced (the same random stream drives
#: both chains), so the two differ in that group alone: see :func:`sample_scanner`.
SHIFTS: dict[str, tuple[str, ...]] = {f"held-out:{group}": names for group, names in SHIFT_GROUPS.items()}

# the drawn BModeConfig / Display fields a range setting decides, where their names differ
_DRAWN = {
    "focus_offset_mm": ("focus_mm",),
    "partial_speckle_p": ("scatterer_density",),
    "reverb_p": ("reverb_db",),
    "overlay_p": ("overlays", "labels", "calipers", "depth_scale", "focus_marker"),
    "jpeg_p": ("jpeg_quality",),
    "fov_mm": (),  # drawn by sample_fov
}

PROFILES = {"training": TRAINING, "held-out": HELD_OUT, "one-chain": ONE_CHAIN}  # profile -> the ranges it draws from
PROFILE_NAMES = (*PROFILES, *SHIFTS)  # every scanner profile a case can be rendered with


@dataclass(frozen=True)
class Display:
    """What the screen adds to a B-mode: overlays and compression (recorded in the case's meta)."""

    overlays: bool = False  # text, calipers, depth scale, focus marker
    font_px: int = 11  # text height, pixels
    labels: tuple[str, ...] = ()  # text burned in
    calipers: bool = False  # two '+' marks joined by a dotted line
    depth_scale: bool = False  # tick marks along one side, every 5 mm
    focus_marker: bool = False  # a small triangle at the focal depth
    jpeg_quality: int = 0  # 0 = no JPEG compression


def _draw(rng: np.random.Generator, ranges: tuple[Range, ...]) -> float:
    lo, hi = ranges[int(rng.integers(len(ranges)))]
    return float(rng.uniform(lo, hi))


def _profile(profile: str) -> ScannerRanges:
    if profile not in PROFILES:
        raise ValueError(f"scanner profile must be one of {sorted(PROFILE_NAMES)}, got {profile!r}")
    return PROFILES[profile]


def _both(rng: np.random.Generator, first, second):
    """``(first(rng), second(rng))`` drawn from the same random state; ``rng`` then goes on as after ``first``."""
    start = rng.bit_generator.state
    a = first(rng)
    after = rng.bit_generator.state
    rng.bit_generator.state = start
    b = second(rng)
    rng.bit_generator.state = after
    return a, b


def sample_fov(rng: np.random.Generator, profile: str = "training") -> float:
    """A field of view (image width and depth), mm, from the ``profile``'s range: sets the pixel spacing."""
    if profile in SHIFTS:
        train, held = _both(rng, lambda r: _draw(r, TRAINING.fov_mm), lambda r: _draw(r, HELD_OUT.fov_mm))
        return held if "fov_mm" in SHIFTS[profile] else train
    return _draw(rng, _profile(profile).fov_mm)


def sample_scanner(
    rng: np.random.Generator, lesion_depth_mm: float, fov_mm: float, profile: str = "training"
) -> tuple[BModeConfig, Display]:
    """One random imaging chain ``(BModeConfig, Display)`` from the ``profile``'s ranges; the focus is set near
    ``lesion_depth_mm``, inside the ``fov_mm`` deep image. A ``SHIFTS`` profile gives the training chain of the
    same random state with its group's draws taken from the held-out chain of that state, and leaves ``rng`` where
    the training chain leaves it (later draws, such as the elastography box, stay the training case's)."""
    if profile in SHIFTS:
        (bmode, display), (held_bmode, held_display) = _both(
            rng,
            lambda r: _sample_chain(r, lesion_depth_mm, fov_mm, TRAINING),
            lambda r: _sample_chain(r, lesion_depth_mm, fov_mm, HELD_OUT),
        )
        moved = {drawn for name in SHIFTS[profile] for drawn in _DRAWN.get(name, (name,))}
        bmode = replace(bmode, **{f: getattr(held_bmode, f) for f in moved if hasattr(bmode, f)})
        display = replace(display, **{f: getattr(held_display, f) for f in moved if hasattr(display, f)})
        return bmode, display
    return _sample_chain(rng, lesion_depth_mm, fov_mm, _profile(profile))


def _sample_chain(
    rng: np.random.Generator, lesion_depth_mm: float, fov_mm: float, r: ScannerRanges
) -> tuple[BModeConfig, Display]:
    fov = fov_mm
    bmode = BModeConfig(
        frequency_mhz=_draw(rng, r.frequency_mhz),
        axial_fwhm_mm=_draw(rng, r.axial_fwhm_mm),
        lateral_fwhm_mm=_draw(rng, r.lateral_fwhm_mm),
        focus_mm=float(np.clip(lesion_depth_mm + _draw(rng, r.focus_offset_mm), 3.0, fov - 2.0)),
        rayleigh_mm=_draw(rng, r.rayleigh_mm),
        dynamic_range_db=_draw(rng, r.dynamic_range_db),
        gain_db=_draw(rng, r.gain_db),
        smooth_px=_draw(rng, r.smooth_px),
        smooth_lateral_px=_draw(rng, r.smooth_lateral_px),
        noise_db=_draw(rng, r.noise_db),
        tgc_slope_db_cm=_draw(rng, r.tgc_slope_db_cm),
        scatterer_density=_draw(rng, r.scatterer_density) if rng.random() < r.partial_speckle_p else 1.0,
        compounding=int(rng.choice(r.compounding)),
        reverb_db=_draw(rng, r.reverb_db) if rng.random() < r.reverb_p else -100.0,
    )
    overlays = bool(rng.random() < r.overlay_p)
    display = Display(
        overlays=overlays,
        font_px=int(round(_draw(rng, r.font_px))),
        labels=tuple(str(s) for s in rng.choice(r.labels, size=int(rng.integers(1, 4)), replace=False))
        if overlays
        else (),
        calipers=overlays and bool(rng.random() < 0.4),
        depth_scale=overlays and bool(rng.random() < 0.6),
        focus_marker=overlays and bool(rng.random() < 0.5),
        jpeg_quality=int(round(_draw(rng, r.jpeg_quality))) if rng.random() < r.jpeg_p else 0,
    )
    return bmode, display


def burn_overlays(
    bmode: np.ndarray, display: Display, mm_per_px: float, focus_mm: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``display``'s overlays into an ``(H, W)`` uint8 B-mode (a new array) in light gray / white."""
    if not display.overlays:
        return bmode
    h, w = bmode.shape
    image = Image.fromarray(bmode)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(6, display.font_px))
    level = int(rng.integers(200, 256))
    for i, text in enumerate(display.labels):
        x = int(rng.integers(2, max(3, w // 2)))
        y = int(rng.integers(2, max(3, h - display.font_px - 2))) if i else int(rng.integers(2, max(3, h // 6)))
        draw.text((x, y), text, fill=level, font=font)
    if display.calipers:
        (x0, x1), (y0, y1) = np.sort(rng.integers(w // 8, w - w // 8, 2)), rng.integers(h // 5, h - h // 8, 2)
        arm = max(2, w // 64)
        for cx, cy in ((x0, y0), (x1, y1)):
            draw.line([(cx - arm, cy), (cx + arm, cy)], fill=level)
            draw.line([(cx, cy - arm), (cx, cy + arm)], fill=level)
        n = max(2, int(np.hypot(x1 - x0, y1 - y0) // 4))
        for t in np.linspace(0, 1, n)[1:-1]:
            px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            draw.point((int(px), int(py)), fill=level)
    side = w - 3 if rng.random() < 0.8 else 2
    if display.depth_scale:
        step = 5.0 / mm_per_px
        for k, y in enumerate(np.arange(0, h, step)):
            length = 5 if k % 2 == 0 else 3
            x_end = side - length if side > w // 2 else side + length
            draw.line([(side, int(y)), (x_end, int(y))], fill=level)
    if display.focus_marker:
        y = int(np.clip(focus_mm / mm_per_px, 3, h - 4))
        x = side - 6 if side > w // 2 else side + 6
        draw.polygon([(x, y), (side, y - 3), (side, y + 3)], fill=level)
    return np.asarray(image, dtype=np.uint8).copy()


def jpeg_roundtrip(bmode: np.ndarray, quality: int) -> np.ndarray:
    """Encode an ``(H, W)`` uint8 image as JPEG at ``quality`` (1-95) and decode it; ``quality`` 0 = unchanged."""
    if not quality:
        return bmode
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be in [1, 95], got {quality!r}")
    buffer = io.BytesIO()
    Image.fromarray(bmode).save(buffer, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"), dtype=np.uint8).copy()
