"""Conclusion templates per score system and score.

Which system a reading is on, its name and its class wording are decided in :mod:`usegan.scoring.systems`; the
templates are keyed by that system and their SWE cut-offs come from :mod:`usegan.scoring.thresholds`. The wording
follows the score definitions in docs/domain.md section 3 (Tsukuba for breast SE, Rago for thyroid SE, Q-box
cut-offs for SWE). Every template ends with the virtual-elastography caveat (docs/domain.md section 5), because
the elastogram the score was read on is a model's estimate, not a measurement.
"""

from __future__ import annotations

from usegan.scoring.swe import kpa_to_speed
from usegan.scoring.systems import confirmed_scale, headline_scale
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS
from usegan.vocab import Organ, ScoreSystem, values

ORGANS = (*values(Organ), "other")
SIDES = ("", "left", "right", "midline")

CAVEAT = (
    "Assessment made on a VIRTUAL elastogram generated from the B-mode image by a model (not a measurement); "
    "correlate with conventional imaging and, where indicated, with real elastography or biopsy."
)

_BREAST = {
    1: "Lesion strains like the surrounding tissue (Tsukuba 1): elastographic features favour a benign lesion.",
    2: "Lesion mostly strained with scattered hard areas (Tsukuba 2): elastographic features favour benignity.",
    3: "Periphery strained, centre hard (Tsukuba 3): indeterminate; follow-up or further assessment advised.",
    4: "Whole lesion hard (Tsukuba 4): elastographic features are suspicious; tissue sampling is advised.",
    5: "Lesion and surrounding tissue hard (Tsukuba 5): highly suspicious; tissue sampling is advised.",
}
_THYROID = {
    1: "Elasticity throughout the nodule (Rago 1): elastographic features favour a benign nodule.",
    2: "Elasticity in most of the nodule (Rago 2): elastographic features favour benignity.",
    3: "Elasticity only at the periphery of the nodule (Rago 3): indeterminate.",
    4: "No elasticity in the nodule (Rago 4): suspicious; fine-needle aspiration is advised.",
    5: "No elasticity in the nodule or behind it (Rago 5): highly suspicious; fine-needle aspiration is advised.",
}
_T = DEFAULT_THRESHOLDS
_NORMAL, _RULE_OUT, _CACLD, _PORTAL = (
    _T.liver_normal_kpa, _T.liver_rule_out_cacld_kpa, _T.liver_cacld_kpa, _T.liver_portal_hypertension_kpa
)  # fmt: skip
_LIVER = {
    1: f"Liver stiffness within normal limits (<= {_NORMAL:g} kPa, SRU 2020).",
    2: f"Liver stiffness < {_RULE_OUT:g} kPa: compensated advanced chronic liver disease is ruled out in the absence "
    "of other signs (SRU 2020).",
    3: f"Liver stiffness {_RULE_OUT:g}-{_CACLD:g} kPa: suggestive of cACLD; further tests are needed (SRU 2020).",
    4: f"Liver stiffness > {_CACLD:g} kPa: highly suggestive of compensated advanced chronic liver disease (SRU 2020).",
    5: f"Liver stiffness > {_PORTAL:g} kPa: suggests clinically significant portal hypertension (SRU 2020).",
}
_OTHER = {
    1: "Soft lesion, similar to the surrounding tissue.",
    2: "Mostly soft lesion with small stiffer areas.",
    3: "Lesion of intermediate stiffness.",
    4: "Stiff lesion.",
    5: "Stiff lesion with stiff surrounding tissue.",
}


def conclusion_template(organ: str, score: int | None, with_caveat: bool = True) -> str:
    """A starting conclusion for ``organ`` and a confirmed ``score`` 1..5 (blank text without a score)."""
    if score is None:
        return CAVEAT if with_caveat else ""
    if isinstance(score, bool) or int(score) != score or not 1 <= int(score) <= 5:
        raise ValueError(f"score must be an integer 1..5 or None, got {score!r}")
    text = TEMPLATES[headline_scale(organ).system][int(score)]
    return f"{text}\n\n{CAVEAT}" if with_caveat else text


def qbox_summary(figures: dict) -> str:
    """One line of SWE Q-box figures (kPa, and Eratio when a reference ROI was drawn); ``""`` if none present."""
    parts = [
        f"{name} {figures[key]:.0f} kPa"
        for name, key in (("Emean", "emean_kpa"), ("Emax", "emax_kpa"), ("Emin", "emin_kpa"), ("SD", "sd_kpa"))
        if isinstance(figures.get(key), (int, float))
    ]
    if isinstance(figures.get("eratio"), (int, float)) and figures["eratio"] == figures["eratio"]:  # not NaN
        parts.append(f"Eratio {figures['eratio']:.2f}")
    return " · ".join(parts)


_BREAST_CUT, _BREAST_SPEED = _T.breast_emax_suspicious_kpa, float(kpa_to_speed(_T.breast_emax_suspicious_kpa))
_THYROID_CUT, _THYROID_HIGH = _T.thyroid_emax_suspicious_kpa, _T.thyroid_emax_highly_suspicious_kpa

# The conclusion templates by score system (usegan.scoring.systems), score -> text.
TEMPLATES: dict[str, dict[int, str]] = {
    ScoreSystem.SWE_BREAST: {
        1: f"Shear-wave elastography: lesion Emax below {_BREAST_CUT:g} kPa ({_BREAST_SPEED:.1f} m/s), below the "
        "suspicious cut-off (BE1): elastographic features favour benignity.",
        2: f"Shear-wave elastography: lesion Emax {_BREAST_CUT:g} kPa ({_BREAST_SPEED:.1f} m/s) or more (BE1): "
        "elastographic features are suspicious; tissue sampling is advised.",
    },
    ScoreSystem.SWE_THYROID: {
        1: f"Shear-wave elastography: nodule Emax below {_THYROID_CUT:g} kPa: below the suspicious cut-off.",
        2: f"Shear-wave elastography: nodule Emax {_THYROID_CUT:g}-{_THYROID_HIGH:g} kPa: suspicious; fine-needle "
        "aspiration is advised.",
        3: f"Shear-wave elastography: nodule Emax {_THYROID_HIGH:g} kPa or more: highly suspicious; fine-needle "
        "aspiration is advised.",
    },
    ScoreSystem.SWE_LIVER: _LIVER,
    ScoreSystem.TSUKUBA: _BREAST,
    ScoreSystem.RAGO: _THYROID,
    ScoreSystem.STIFFNESS: _OTHER,
}


def reading_template(organ: str, mode: str, score: int, with_caveat: bool = True) -> str:
    """A starting conclusion for a reading of ``organ`` in ``mode`` with ``score`` on that reading's confirmed
    scale (:func:`usegan.scoring.systems.confirmed_scale`): an SWE breast class 2 never gets Tsukuba 2 wording."""
    scale = confirmed_scale(organ, mode)
    text = TEMPLATES[scale.system][scale.check(score)]
    return f"{text}\n\n{CAVEAT}" if with_caveat else text
