"""Every threshold the score engines use, in one table, each with its source.

Two kinds of number live here:

* **Published cut-offs** (strain ratio, SWE kPa values): the literature source is in the comment.
* **Operational thresholds** that turn the qualitative Tsukuba / Rago wording ("whole lesion hard", "periphery
  strained, centre hard") into pixel rules. The papers define the classes by picture, not by number; these
  values are this project's reading of the pictures, named as such, to revisit with clinical data.

References
----------
[Itoh06]  Itoh A, Ueno E, Tohno E, et al. Breast disease: clinical application of US elastography for
          diagnosis. Radiology 2006;239(2):341-350. (Tsukuba 5-point score; BGR sign of cysts.)
[Rago07]  Rago T, Santini F, Scutari M, Pinchera A, Vitti P. Elastography: new developments in ultrasound for
          predicting malignancy in thyroid nodules. J Clin Endocrinol Metab 2007;92(8):2917-2922.
[Zhi10]   Zhi H, Xiao XY, Yang HY, et al. Ultrasonic elastography in breast cancer diagnosis: strain ratio vs
          5-point scale. Acad Radiol 2010;17(10):1227-1233. (SR cut-off 3.05; published range 2.2-4.8)
[WFUMB15] Barr RG, Nakashima K, Amy D, et al. WFUMB guidelines and recommendations for clinical use of
          ultrasound elastography: Part 2: breast. Ultrasound Med Biol 2015;41(5):1148-1160.
[BE1-12]  Berg WA, Cosgrove DO, Dore CJ, et al. Shear-wave elastography improves the specificity of breast US:
          the BE1 multinational study of 939 masses. Radiology 2012;262(2):435-449. (Emax 80 kPa)
[Hang17]  Hang J, et al., 2017, thyroid 2D-SWE cut-offs as quoted in docs/domain.md section 3
          (SWE-max >= 120 kPa highly suspicious, 69-120 kPa suspicious).
[SRU20]   Barr RG, Wilson SR, Rubens D, Garcia-Tsao G, Ferraioli G. Update to the Society of Radiologists in
          Ultrasound liver elastography consensus statement. Radiology 2020;296(2):263-274. ("rule of four")
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """All scoring thresholds. Fractions are of *known* (on-map) pixels; strain is normalised to [0, 1]."""

    # --- colour classes on the normalised strain display (docs/domain.md section 2) -----------------------------
    hard_strain: float = 1 / 3  # strain below this = "hard" = the blue third of the scale [operational]
    soft_strain: float = 2 / 3  # strain above this = "soft" = the red third (BGR sign) [operational]

    # --- Tsukuba / Rago classes (operational reading of [Itoh06] / [Rago07] figures) -----------------------
    scattered_hard_fraction: float = 0.10  # >= this hard in the lesion: "scattered hard areas" (score >= 2)
    centre_hard_fraction: float = 0.50  # >= this hard in the eroded core: "centre hard" (score >= 3)
    whole_hard_fraction: float = 0.80  # >= this hard in the whole lesion: "whole lesion hard" (score >= 4)
    ring_hard_fraction: float = 0.50  # >= this hard in the surrounding ring too: "and surroundings" (score 5)
    posterior_hard_fraction: float = 0.50  # Rago 5: >= this hard in the ring below the nodule ("behind it")
    core_erosion: float = 0.40  # core = lesion eroded by this x equivalent radius (at least 1 px)
    ring_width: float = 0.30  # ring = lesion dilated by this x equivalent radius, minus the lesion (>= 2 px)
    min_ring_width_px: int = 2  # a thinner ring is all edge blur

    # --- BGR (blue-green-red layered) sign of a cyst [Itoh06; WFUMB15] (operational) -----------------------
    bgr_band_fraction: float = 0.60  # each horizontal third must be >= this fraction of its colour class
    # top third blue (hard), middle third green, bottom third red (soft), seen from the transducer.

    # --- input quality (operational) -----------------------------------------------------------------------
    max_unknown_fraction: float = 0.50  # more than this of an ROI off the colour map: cannot score
    min_lesion_pixels: int = 16  # smaller lesion ROIs have no meaningful core/rim: cannot score (Tsukuba/Rago)
    min_roi_pixels: int = 4  # smallest ROI for ratio / Q-box statistics

    # --- strain ratio [Zhi10] ------------------------------------------------------------------------------
    strain_ratio_cutoff: float = 3.0  # SR = ref strain / lesion strain >= this: suspicious ([Zhi10]: 3.05)
    min_lesion_strain: float = 1 / 255  # mean lesion strain below one LUT step: ratio unbounded, cannot score

    # --- shear-wave elastography ---------------------------------------------------------------------------
    tissue_density: float = 1000.0  # kg/m^3, for E = 3 rho c^2 (soft tissue, incompressible) [WFUMB15]
    breast_emax_suspicious_kpa: float = 80.0  # Emax >= 80 kPa suspicious [BE1-12; WFUMB15]
    thyroid_emax_suspicious_kpa: float = 69.0  # SWE-max 69-120 kPa suspicious [Hang17]
    thyroid_emax_highly_suspicious_kpa: float = 120.0  # SWE-max >= 120 kPa highly suspicious [Hang17]
    liver_normal_kpa: float = 5.0  # <= 5 kPa: high probability of normal liver [SRU20]
    liver_rule_out_cacld_kpa: float = 9.0  # < 9 kPa rules out compensated advanced chronic liver disease [SRU20]
    liver_cacld_kpa: float = 13.0  # 9-13 needs further tests; > 13 kPa highly suggestive of cACLD [SRU20]
    liver_portal_hypertension_kpa: float = 17.0  # > 17 kPa suggests clinically significant portal hypertension


DEFAULT_THRESHOLDS = Thresholds()
