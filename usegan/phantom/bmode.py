"""B-mode image by speckle simulation (a convolution model of pulse-echo imaging with a linear array).

Model (Bamber & Dickinson, Phys Med Biol 1980; Meunier & Bertrand, IEEE TMI 1995; the convolution model behind
Field II's fast approximations):

1. **Scatterers**: one complex Gaussian amplitude per pixel, variance = local echogenicity (backscatter power).
   Many sub-resolution scatterers per resolution cell sum to a circular complex Gaussian, so the envelope of a
   homogeneous region is Rayleigh distributed ("fully developed speckle", envelope SNR = mean/std = 1.91).
2. **Attenuation and TGC**: the amplitude reaching depth z is scaled by ``10^(-(2 f A(z) - TGC(z)) / 20)`` where
   ``A(z)`` integrates the local attenuation (dB/cm/MHz) down each column (two-way, hence the 2) and the
   time-gain compensation cancels the attenuation of gland. Excess attenuation (carcinoma) leaves a posterior
   *shadow*; fluid (cyst) attenuates less than the TGC expects, leaving posterior *enhancement*.
3. **Point-spread function**: a separable Gaussian pulse-echo PSF acting on the complex base-band signal: fixed
   axial width (pulse length) and a lateral width that grows away from the transmit focus like a Gaussian beam,
   ``sigma_x(z) = sigma_0 sqrt(1 + ((z - z_f) / z_R)^2)``. Both are applied in the Fourier domain (the lateral one
   row by row), normalised so a unit-power white input gives unit-power output.
4. **Envelope**: the magnitude of the base-band signal, plus a small electronic noise floor.
5. **Log compression**: ``20 log10`` to dB, a light Gaussian smoothing of the log image (the speckle-reduction
   filter every scanner applies; the pre-log envelope is kept unsmoothed for speckle statistics), a
   ``dynamic_range_db`` window (50-60 dB on breast presets) mapped to 0..255, 8-bit output.

What varies between scanners and operators (all defaults reproduce the plain chain above; see
:mod:`usegan.phantom.scanner` for the randomised draws): *partially developed speckle* (``scatterer_density`` < 1:
only that fraction of pixels holds a scatterer, so the envelope is pre-Rayleigh, Nakagami m < 1); *spatial
compounding* (``compounding`` independent speckle realisations averaged in the envelope, as beam steering does);
*TGC errors* (``tgc_slope_db_cm``: residual gain per cm of depth, negative = the image darkens with depth);
*anisotropic speckle reduction* (``smooth_lateral_px`` on top of ``smooth_px``); *near-field reverberation*
(``reverb_db``: bright horizontal bands repeating the skin echo in the first millimetres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class BModeConfig:
    frequency_mhz: float = 7.5  # centre frequency of the linear probe, MHz (attenuation scales with it)
    axial_fwhm_mm: float = 0.35  # axial resolution (pulse length), FWHM mm
    lateral_fwhm_mm: float = 0.7  # lateral resolution at the focus, FWHM mm
    focus_mm: float = 18.0  # transmit focal depth, mm
    rayleigh_mm: float = 12.0  # depth over which the beam widens by sqrt(2) from the focus, mm
    tgc_atten: float = 0.75  # attenuation the TGC compensates, dB/cm/MHz (that of gland)
    dynamic_range_db: float = 55.0  # displayed dynamic range, dB
    gain_db: float = -18.0  # level of gland (echogenicity 1) below full white, dB
    smooth_px: float = 0.6  # post-log Gaussian smoothing (scanner speckle-reduction filter), pixels; 0 = off
    noise_db: float = -52.0  # electronic noise floor relative to gland, dB
    scatterer_density: float = 1.0  # fraction of pixels holding a scatterer (< 1: partially developed speckle)
    compounding: int = 1  # speckle realisations averaged (spatial compounding); 1 = off
    tgc_slope_db_cm: float = 0.0  # residual TGC error, dB per cm of depth (negative: darker with depth)
    smooth_lateral_px: float = 0.0  # extra lateral post-log smoothing (speckle reduction), pixels
    reverb_db: float = -100.0  # near-field reverberation level relative to gland, dB (-100 = none)

    def __post_init__(self) -> None:
        if not 0.0 < self.scatterer_density <= 1.0:
            raise ValueError(f"scatterer_density must be in (0, 1], got {self.scatterer_density!r}")
        if self.compounding < 1:
            raise ValueError(f"compounding must be >= 1, got {self.compounding!r}")
        for name in ("frequency_mhz", "axial_fwhm_mm", "lateral_fwhm_mm", "rayleigh_mm", "dynamic_range_db"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class BMode:
    envelope: np.ndarray  # (H, W) float32 envelope before log compression (gland ~1), for speckle statistics
    image: np.ndarray  # (H, W) uint8 log-compressed B-mode


_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def attenuation_gain(atten: np.ndarray, mm_per_px: float, config: BModeConfig) -> np.ndarray:
    """``(H, W)`` attenuation (dB/cm/MHz) -> ``(H, W)`` amplitude factor after two-way loss and TGC."""
    step_cm = mm_per_px / 10.0
    loss_db = 2.0 * config.frequency_mhz * np.cumsum(atten, axis=0, dtype=np.float64) * step_cm
    depth_cm = (np.arange(atten.shape[0])[:, None] + 1.0) * step_cm
    tgc_db = 2.0 * config.frequency_mhz * config.tgc_atten * depth_cm
    return (10.0 ** ((tgc_db - loss_db) / 20.0)).astype(np.float32)


def psf_filter(envelope_shape: tuple[int, int], mm_per_px: float, config: BModeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Fourier-domain PSF: axial ``(H, 1)`` and depth-dependent lateral ``(H, W)`` Gaussian transfer functions,
    each normalised to unit output power for white input."""
    h, w = envelope_shape
    sz = config.axial_fwhm_mm * _FWHM_TO_SIGMA / mm_per_px
    depth_mm = (np.arange(h) + 0.5) * mm_per_px
    sx = config.lateral_fwhm_mm * _FWHM_TO_SIGMA / mm_per_px
    sx = sx * np.sqrt(1.0 + ((depth_mm - config.focus_mm) / config.rayleigh_mm) ** 2)
    fz = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    axial = np.exp(-2.0 * (np.pi * fz * sz) ** 2)
    lateral = np.exp(-2.0 * (np.pi * fx * sx[:, None]) ** 2)
    axial /= np.sqrt(np.mean(axial**2))
    lateral /= np.sqrt(np.mean(lateral**2, axis=1, keepdims=True))
    return axial, lateral


def speckle_envelope(
    echo: np.ndarray, atten: np.ndarray, mm_per_px: float, rng: np.random.Generator, config: BModeConfig = BModeConfig()
) -> np.ndarray:
    """Echogenicity and attenuation maps ``(H, W)`` -> envelope ``(H, W)`` float32 (steps 1-4 of the module)."""
    echo = np.asarray(echo, dtype=np.float64)
    if echo.ndim != 2 or np.shape(atten) != echo.shape:
        raise ValueError(f"echo and atten must be equal (H, W) maps, got {echo.shape} and {np.shape(atten)}")
    if echo.min() < 0:
        raise ValueError(f"echogenicity must be >= 0, got min {echo.min()!r}")
    shape = echo.shape
    gain = attenuation_gain(np.asarray(atten), mm_per_px, config)
    if config.tgc_slope_db_cm:
        depth_cm = (np.arange(shape[0])[:, None] + 0.5) * mm_per_px / 10.0
        gain = gain * (10.0 ** (config.tgc_slope_db_cm * depth_cm / 20.0)).astype(np.float32)
    axial, lateral = psf_filter(shape, mm_per_px, config)
    power = np.zeros(shape)
    for _ in range(config.compounding):
        scat = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * np.sqrt(echo / 2.0)
        if config.scatterer_density < 1.0:  # sparse scatterers, power kept: pre-Rayleigh speckle
            scat *= (rng.random(shape) < config.scatterer_density) / np.sqrt(config.scatterer_density)
        scat *= gain
        signal = np.fft.ifft(np.fft.fft(scat, axis=0) * axial, axis=0)
        signal = np.fft.ifft(np.fft.fft(signal, axis=1) * lateral, axis=1)
        noise_amp = 10.0 ** (config.noise_db / 20.0)
        signal += noise_amp * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2.0)
        power += np.abs(signal) ** 2
    envelope = np.sqrt(power / config.compounding)
    if config.reverb_db > -100:
        depth_mm = (np.arange(shape[0])[:, None] + 0.5) * mm_per_px
        period = 1.2 + 0.4 * rng.random()
        bands = (np.cos(2 * np.pi * depth_mm / period) > 0.6) * np.exp(-depth_mm / 4.0)
        envelope = envelope + 10.0 ** (config.reverb_db / 20.0) * bands * (0.7 + 0.3 * rng.random((1, shape[1])))
    return envelope.astype(np.float32)


def log_compress(envelope: np.ndarray, config: BModeConfig = BModeConfig()) -> np.ndarray:
    """Envelope -> uint8 B-mode: ``gain_db`` sets where gland (envelope ~1) sits below white, the window is
    ``dynamic_range_db`` deep."""
    db = 20.0 * np.log10(np.maximum(envelope, 1e-6)) + config.gain_db
    if config.smooth_px > 0 or config.smooth_lateral_px > 0:
        db = ndimage.gaussian_filter(db, (config.smooth_px, np.hypot(config.smooth_px, config.smooth_lateral_px)))
    grey = (db + config.dynamic_range_db) / config.dynamic_range_db
    return np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)


def simulate_bmode(
    echo: np.ndarray, atten: np.ndarray, mm_per_px: float, rng: np.random.Generator, config: BModeConfig = BModeConfig()
) -> BMode:
    """Full B-mode simulation; see the module docstring. Returns the pre-log envelope and the 8-bit image."""
    envelope = speckle_envelope(echo, atten, mm_per_px, rng, config)
    return BMode(envelope=envelope, image=log_compress(envelope, config))
