"""The scale a clinician's confirmed score is on, per organ and elastography mode (one owner for that decision).

A reading's confirmed score is only meaningful together with its scale: Tsukuba 4 ("whole lesion hard") and a
breast SWE class 2 ("Emax >= 80 kPa") are different statements, and an SWE reading must not be confirmed on the
Tsukuba picker. Sources (DOMAIN.md section 3): Tsukuba (Itoh/Ueno 2006) for breast strain, Rago (2007) for thyroid
strain; breast SWE Emax cut-off 80 kPa (BE1, Berg 2012); thyroid SWE-max 69-120 / >= 120 kPa (Hang 2017); liver
2D-SWE "rule of four" (SRU 2020). Organs without a published strain score get a plain 5-point stiffness scale.

Before readings had a mode the picker chose by organ only (``usegan.vocab.CONFIRMED_SCALE``): migrated readings
keep that scale (schema migration 4), so an SWE breast score of that time stays a Tsukuba score.
"""

from __future__ import annotations

from dataclasses import dataclass

from usegan.vocab import Mode, Organ, ScoreSystem


@dataclass(frozen=True)
class ConfirmedScale:
    system: str  # scoring-system key, the same key a proposal on this scale carries (ScoreResult.system)
    name: str  # short name shown beside the picker and in the report, e.g. "Tsukuba 1-5"
    wording: dict[int, str]  # score -> one-line meaning

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(self.wording)

    def describe(self, score: int | None) -> str:
        """``"Tsukuba 4 — whole lesion hard"``: the score with its scale and wording (``"-"`` for none)."""
        if score is None:
            return "-"
        return f"{self.name.rsplit(' ', 1)[0]} {int(score)} — {self.wording.get(int(score), '?')}"

    def check(self, score: object) -> int | None:
        """``score`` as an int on this scale, or None; ``ValueError`` naming the scale otherwise."""
        if score is None:
            return None
        if isinstance(score, bool) or not isinstance(score, int | float) or int(score) != score:
            raise ValueError(f"a confirmed score must be an integer on {self.name}, got {score!r}")
        if int(score) not in self.wording:
            raise ValueError(f"{int(score)} is not on {self.name} (allowed: {', '.join(map(str, self.scores))})")
        return int(score)


TSUKUBA = ConfirmedScale(
    ScoreSystem.TSUKUBA,
    "Tsukuba 1-5",
    {
        1: "whole lesion strains like its surroundings",
        2: "mostly strained, scattered hard areas",
        3: "periphery strained, centre hard",
        4: "whole lesion hard",
        5: "lesion and surrounding tissue hard",
    },
)
RAGO = ConfirmedScale(
    ScoreSystem.RAGO,
    "Rago 1-5",
    {
        1: "elasticity throughout the nodule",
        2: "elasticity in most of the nodule",
        3: "elasticity only at the periphery",
        4: "no elasticity in the nodule",
        5: "no elasticity in the nodule or behind it",
    },
)
SWE_BREAST = ConfirmedScale(
    ScoreSystem.SWE_BREAST,
    "breast SWE class 1-2",
    {1: "Emax below 80 kPa (5.2 m/s): not suspicious", 2: "Emax 80 kPa (5.2 m/s) or more: suspicious"},
)
SWE_THYROID = ConfirmedScale(
    ScoreSystem.SWE_THYROID,
    "thyroid SWE class 1-3",
    {
        1: "Emax below 69 kPa: below the suspicious cut-off",
        2: "Emax 69-120 kPa: suspicious",
        3: "Emax 120 kPa or more: highly suspicious",
    },
)
SWE_LIVER = ConfirmedScale(
    ScoreSystem.SWE_LIVER,
    "liver SWE class 1-5",
    {
        1: "5 kPa or less: normal",
        2: "below 9 kPa: cACLD ruled out",
        3: "9-13 kPa: further tests needed",
        4: "above 13 kPa: highly suggestive of cACLD",
        5: "above 17 kPa: suggests portal hypertension",
    },
)
STIFFNESS = ConfirmedScale(
    ScoreSystem.STIFFNESS,
    "stiffness 1-5",
    {
        1: "soft, like the surrounding tissue",
        2: "mostly soft, small stiffer areas",
        3: "intermediate stiffness",
        4: "stiff lesion",
        5: "stiff lesion and surroundings",
    },
)
SCALES = {s.system: s for s in (TSUKUBA, RAGO, SWE_BREAST, SWE_THYROID, SWE_LIVER, STIFFNESS)}

_BY_ORGAN_AND_MODE = {
    (Organ.BREAST, Mode.STRAIN): TSUKUBA,
    (Organ.THYROID, Mode.STRAIN): RAGO,
    (Organ.BREAST, Mode.SWE): SWE_BREAST,
    (Organ.THYROID, Mode.SWE): SWE_THYROID,
    (Organ.LIVER, Mode.SWE): SWE_LIVER,
}


def confirmed_scale(organ: str, mode: str) -> ConfirmedScale:
    """The scale a reading of ``organ`` in ``mode`` is confirmed on."""
    try:
        mode = Mode(mode)
    except ValueError:
        raise ValueError(f"mode must be one of {[m.value for m in Mode]}, got {mode!r}") from None
    return _BY_ORGAN_AND_MODE.get((str(organ), mode), STIFFNESS)


def scale_named(system: str | None) -> ConfirmedScale | None:
    """The scale with key ``system`` (as stored on a reading), or None for an unknown / missing key."""
    return SCALES.get(str(system)) if system else None
