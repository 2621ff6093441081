"""Conclusion templates per organ and score, and which scoring system fits an organ and mode.

The wording follows the score definitions in docs/domain.md section 3 (Tsukuba for breast SE, Rago for thyroid SE,
Q-box cut-offs for SWE). Every template ends with the virtual-elastography caveat (docs/domain.md section 5), because
the elastogram the score was read on is a model's estimate, not a measurement.
"""

from __future__ import annotations

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
_LIVER = {
    1: "Liver stiffness within normal limits (<= 5 kPa, SRU 2020).",
    2: "Liver stiffness < 9 kPa: compensated advanced chronic liver disease is ruled out in the absence of other "
    "signs (SRU 2020).",
    3: "Liver stiffness 9-13 kPa: suggestive of cACLD; further tests are needed (SRU 2020).",
    4: "Liver stiffness > 13 kPa: highly suggestive of compensated advanced chronic liver disease (SRU 2020).",
    5: "Liver stiffness > 17 kPa: suggests clinically significant portal hypertension (SRU 2020).",
}
_OTHER = {
    1: "Soft lesion, similar to the surrounding tissue.",
    2: "Mostly soft lesion with small stiffer areas.",
    3: "Lesion of intermediate stiffness.",
    4: "Stiff lesion.",
    5: "Stiff lesion with stiff surrounding tissue.",
}
TEMPLATES: dict[str, dict[int, str]] = {
    Organ.BREAST: _BREAST,
    Organ.THYROID: _THYROID,
    Organ.LIVER: _LIVER,
    "other": _OTHER,
}


def score_names(organ: str, mode: str) -> dict[int, str]:
    """``{score: short wording}`` for the confirmed-score picker."""
    table = TEMPLATES.get(organ, _OTHER)
    return {score: text.split(":")[0].split("(")[0].strip() for score, text in table.items()}


def conclusion_template(organ: str, score: int | None, with_caveat: bool = True) -> str:
    """A starting conclusion for ``organ`` and a confirmed ``score`` 1..5 (blank text without a score)."""
    if score is None:
        return CAVEAT if with_caveat else ""
    if isinstance(score, bool) or int(score) != score or not 1 <= int(score) <= 5:
        raise ValueError(f"score must be an integer 1..5 or None, got {score!r}")
    text = TEMPLATES.get(organ, _OTHER)[int(score)]
    return f"{text}\n\n{CAVEAT}" if with_caveat else text


# The clinician's confirmed score is on the organ's own scale (see usegan.scoring.CONFIRMED_SCALE).
CONFIRMED_SCALE_NAMES: dict[str, str] = {
    Organ.BREAST: "Tsukuba 1-5",
    Organ.THYROID: "Rago 1-5",
    Organ.LIVER: "liver SWE class 1-5",
}

# What a proposed score means on each system's own scale: the proposal's number is NOT on the confirmed-score
# picker's scale for SWE (e.g. breast SWE: 2 = suspicious, while a confirmed Tsukuba 2 favours benignity).
PROPOSAL_SCALES: dict[str, str] = {
    ScoreSystem.TSUKUBA: "Tsukuba 1-5",
    ScoreSystem.RAGO: "Rago 1-5",
    ScoreSystem.STRAIN_RATIO: "1 below / 2 at or above the cut-off",
    ScoreSystem.SWE_BREAST: "SWE class: 1 below / 2 at or above the Emax cut-off (not Tsukuba)",
    ScoreSystem.SWE_THYROID: "SWE class 1-3 by Emax (not Rago)",
    ScoreSystem.SWE_LIVER: "SWE class 1-5 by Emean, SRU 2020",
}


def proposal_scale(system: str) -> str:
    """Short wording of the scale a proposed score of ``system`` is on (``""`` for an unknown system)."""
    return PROPOSAL_SCALES.get(system) or ""


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


_SWE_WORDS = {
    ScoreSystem.SWE_BREAST: {
        1: "Shear-wave elastography: lesion Emax below 80 kPa (5.2 m/s), below the suspicious cut-off (BE1): "
        "elastographic features favour benignity.",
        2: "Shear-wave elastography: lesion Emax 80 kPa (5.2 m/s) or more (BE1): elastographic features are "
        "suspicious; tissue sampling is advised.",
    },
    ScoreSystem.SWE_THYROID: {
        1: "Shear-wave elastography: nodule Emax below 69 kPa: below the suspicious cut-off.",
        2: "Shear-wave elastography: nodule Emax 69-120 kPa: suspicious; fine-needle aspiration is advised.",
        3: "Shear-wave elastography: nodule Emax 120 kPa or more: highly suspicious; fine-needle aspiration is "
        "advised.",
    },
    ScoreSystem.SWE_LIVER: _LIVER,
    ScoreSystem.TSUKUBA: _BREAST,
    ScoreSystem.RAGO: _THYROID,
    ScoreSystem.STIFFNESS: _OTHER,
}


def reading_template(organ: str, mode: str, score: int, with_caveat: bool = True) -> str:
    """A starting conclusion for a reading of ``organ`` in ``mode`` with ``score`` on that reading's confirmed
    scale (:func:`usegan.reading.scales.confirmed_scale`): an SWE breast class 2 never gets Tsukuba 2 wording."""
    from usegan.reading.scales import confirmed_scale

    scale = confirmed_scale(organ, mode)
    text = _SWE_WORDS[scale.system][scale.check(score)]
    return f"{text}\n\n{CAVEAT}" if with_caveat else text
