"""Score systems, one table: each system's scale, the wording of every class, and which organ and mode it scores.

Every place that names a score system reads it from here: the engines (:mod:`.tsukuba`, :mod:`.rago`, :mod:`.swe`)
label their proposals with it, the review page's picker and captions, the conclusion templates
(:mod:`usegan.services.templates`), the store's signing check and the PDF report. The cut-off *numbers* live in
:mod:`usegan.scoring.thresholds` with their sources; the SWE wording below is built from them, so a cut-off is
typed once.

Two decisions are answered here:

* :func:`confirmed_scale` ``(organ, mode)``: the scale a clinician confirms a reading on (Tsukuba for breast strain,
  Rago for thyroid strain, the organ's SWE class in SWE mode, a plain 5-point stiffness scale otherwise). It is
  also the system :func:`system_for` hands to the engine, so a proposal is always on its reading's scale when an
  engine exists.
* :data:`HEADLINE_SCALE` ``[organ]``: the organ's scale of the case-level "proposed score" (worklist column,
  blinded reading). Before readings had a mode the picker chose by organ only; readings migrated from that time
  keep this scale (schema migration 4), so an SWE breast score of that time stays a Tsukuba score.

Sources (docs/domain.md section 3): Tsukuba (Itoh/Ueno 2006) for breast strain, Rago (2007) for thyroid strain;
breast SWE Emax cut-off (BE1, Berg 2012); thyroid SWE-max (Hang 2017); liver 2D-SWE "rule of four" (SRU 2020).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from usegan.scoring.swe import kpa_to_speed
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS
from usegan.vocab import Mode, Organ, ScoreSystem, values


@dataclass(frozen=True)
class ScoreScale:
    """One score system: its key, its name, and what each class means (English and Chinese)."""

    system: ScoreSystem  # the key a proposal (ScoreResult.system) and a stored reading (reviews.scale) carry
    name: str  # shown beside the picker and in the report, e.g. "Tsukuba 1-5"
    wording: dict[int, str]  # score -> one-line meaning, e.g. 4 -> "whole lesion hard"
    proposal_scale: str  # what a *proposed* number of this system means (caption under the proposal)
    name_zh: str = ""  # the scale's name in the Chinese report
    wording_zh: dict[int, str] = field(default_factory=dict)  # score -> meaning in the Chinese report
    bgr_label: str = ""  # the proposal's label when the BGR (cyst) sign decides: strain 5-point scores only

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(self.wording)

    @property
    def short_name(self) -> str:
        """The name without its range: ``"Tsukuba"``, ``"breast SWE class"``."""
        return self.name.rsplit(" ", 1)[0]

    def label(self, score: int) -> str:
        """A proposal's label: ``"4: whole lesion hard"``."""
        return f"{int(score)}: {self.wording[int(score)]}"

    def describe(self, score: int | None, language: str = "en") -> str:
        """``"Tsukuba 4 — whole lesion hard"``: the score with its scale and wording (``"-"`` for none)."""
        if score is None:
            return "-"
        if language == "zh":
            return f"{self.name_zh or self.name} {int(score)} — {self.wording_zh.get(int(score), '')}"
        return f"{self.short_name} {int(score)} — {self.wording.get(int(score), '?')}"

    def check(self, score: object) -> int | None:
        """``score`` as an int on this scale, or None; ``ValueError`` naming the scale otherwise."""
        if score is None:
            return None
        if isinstance(score, bool) or not isinstance(score, int | float) or int(score) != score:
            raise ValueError(f"a confirmed score must be an integer on {self.name}, got {score!r}")
        if int(score) not in self.wording:
            raise ValueError(f"{int(score)} is not on {self.name} (allowed: {', '.join(map(str, self.scores))})")
        return int(score)


_T = DEFAULT_THRESHOLDS
_BREAST_CUT = _T.breast_emax_suspicious_kpa
_BREAST_SPEED = f"{float(kpa_to_speed(_BREAST_CUT)):.1f} m/s"
_THYROID_CUT, _THYROID_HIGH = _T.thyroid_emax_suspicious_kpa, _T.thyroid_emax_highly_suspicious_kpa
_LIVER = (_T.liver_normal_kpa, _T.liver_rule_out_cacld_kpa, _T.liver_cacld_kpa, _T.liver_portal_hypertension_kpa)

TSUKUBA = ScoreScale(
    ScoreSystem.TSUKUBA,
    "Tsukuba 1-5",
    {
        1: "whole lesion strains like its surroundings",
        2: "mostly strained, scattered hard areas",
        3: "periphery strained, centre hard",
        4: "whole lesion hard",
        5: "lesion and surrounding tissue hard",
    },
    "Tsukuba 1-5",
    "Tsukuba 评分",
    {
        1: "病灶与周围组织同样应变",
        2: "大部分应变，散在硬区",
        3: "周边应变，中央硬",
        4: "整个病灶硬",
        5: "病灶及周围组织均硬",
    },
    bgr_label="1: BGR sign (blue-green-red layers): cyst pattern",
)
RAGO = ScoreScale(
    ScoreSystem.RAGO,
    "Rago 1-5",
    {
        1: "elasticity throughout the nodule",
        2: "elasticity in most of the nodule",
        3: "elasticity only at the periphery",
        4: "no elasticity in the nodule",
        5: "no elasticity in the nodule or behind it",
    },
    "Rago 1-5",
    "Rago 评分",
    {1: "结节内弹性均匀", 2: "结节大部分有弹性", 3: "仅结节周边有弹性", 4: "结节内无弹性", 5: "结节及其后方均无弹性"},
    bgr_label="1: BGR sign (blue-green-red layers): cystic pattern",
)
STRAIN_RATIO = ScoreScale(
    ScoreSystem.STRAIN_RATIO,
    "strain ratio class 1-2",
    {1: f"strain ratio below {_T.strain_ratio_cutoff:g}", 2: f"strain ratio {_T.strain_ratio_cutoff:g} or more"},
    "1 below / 2 at or above the cut-off",
)
SWE_BREAST = ScoreScale(
    ScoreSystem.SWE_BREAST,
    "breast SWE class 1-2",
    {
        1: f"Emax below {_BREAST_CUT:g} kPa ({_BREAST_SPEED}): not suspicious",
        2: f"Emax {_BREAST_CUT:g} kPa ({_BREAST_SPEED}) or more: suspicious",
    },
    "SWE class: 1 below / 2 at or above the Emax cut-off (not Tsukuba)",
    "乳腺剪切波分级",
    {
        1: f"Emax 低于 {_BREAST_CUT:g} kPa（{_BREAST_SPEED}）：不可疑",
        2: f"Emax 不低于 {_BREAST_CUT:g} kPa（{_BREAST_SPEED}）：可疑",
    },
)
SWE_THYROID = ScoreScale(
    ScoreSystem.SWE_THYROID,
    "thyroid SWE class 1-3",
    {
        1: f"Emax below {_THYROID_CUT:g} kPa: below the suspicious cut-off",
        2: f"Emax {_THYROID_CUT:g}-{_THYROID_HIGH:g} kPa: suspicious",
        3: f"Emax {_THYROID_HIGH:g} kPa or more: highly suspicious",
    },
    "SWE class 1-3 by Emax (not Rago)",
    "甲状腺剪切波分级",
    {
        1: f"Emax 低于 {_THYROID_CUT:g} kPa：低于可疑界值",
        2: f"Emax {_THYROID_CUT:g}-{_THYROID_HIGH:g} kPa：可疑",
        3: f"Emax 不低于 {_THYROID_HIGH:g} kPa：高度可疑",
    },
)
SWE_LIVER = ScoreScale(
    ScoreSystem.SWE_LIVER,
    "liver SWE class 1-5",
    {
        1: f"{_LIVER[0]:g} kPa or less: normal",
        2: f"below {_LIVER[1]:g} kPa: cACLD ruled out",
        3: f"{_LIVER[1]:g}-{_LIVER[2]:g} kPa: further tests needed",
        4: f"above {_LIVER[2]:g} kPa: highly suggestive of cACLD",
        5: f"above {_LIVER[3]:g} kPa: suggests portal hypertension",
    },
    "SWE class 1-5 by Emean, SRU 2020",
    "肝脏剪切波分级",
    {
        1: f"不高于 {_LIVER[0]:g} kPa：正常",
        2: f"低于 {_LIVER[1]:g} kPa：可排除代偿期进展性慢性肝病",
        3: f"{_LIVER[1]:g}-{_LIVER[2]:g} kPa：需进一步检查",
        4: f"高于 {_LIVER[2]:g} kPa：高度提示代偿期进展性慢性肝病",
        5: f"高于 {_LIVER[3]:g} kPa：提示门静脉高压",
    },
)
STIFFNESS = ScoreScale(
    ScoreSystem.STIFFNESS,
    "stiffness 1-5",
    {
        1: "soft, like the surrounding tissue",
        2: "mostly soft, small stiffer areas",
        3: "intermediate stiffness",
        4: "stiff lesion",
        5: "stiff lesion and surroundings",
    },
    "",  # no engine proposes on it
    "硬度评分",
    {1: "软，与周围组织相似", 2: "大部分软，小片较硬区", 3: "中等硬度", 4: "病灶硬", 5: "病灶及周围均硬"},
)

# Every system by key; CONFIRMED_SCALES are those a clinician can confirm on (the strain-ratio class is evidence).
SYSTEMS: dict[str, ScoreScale] = {
    s.system: s for s in (TSUKUBA, RAGO, STRAIN_RATIO, SWE_BREAST, SWE_THYROID, SWE_LIVER, STIFFNESS)
}
CONFIRMED_SCALES: dict[str, ScoreScale] = {k: s for k, s in SYSTEMS.items() if s is not STRAIN_RATIO}

# (organ, mode) -> the reading's scale, which is also the engine's system. Pairs missing here have no engine and
# are confirmed on STIFFNESS.
_BY_ORGAN_AND_MODE: dict[tuple[str, str], ScoreScale] = {
    (Organ.BREAST, Mode.STRAIN): TSUKUBA,
    (Organ.THYROID, Mode.STRAIN): RAGO,
    (Organ.BREAST, Mode.SWE): SWE_BREAST,
    (Organ.THYROID, Mode.SWE): SWE_THYROID,
    (Organ.LIVER, Mode.SWE): SWE_LIVER,
}

# The organ's scale of the case's headline proposed score (see the module docstring); a proposal on any other
# system (an SWE class for breast or thyroid, the strain-ratio class) is evidence on its own scale, never a number
# on this one: breast SWE class 2 means "suspicious", Tsukuba 2 "probably benign".
HEADLINE_SCALE: dict[str, ScoreSystem] = {
    Organ.BREAST: ScoreSystem.TSUKUBA,
    Organ.THYROID: ScoreSystem.RAGO,
    Organ.LIVER: ScoreSystem.SWE_LIVER,
}


def _mode(mode: str) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise ValueError(f"mode must be one of {list(values(Mode))}, got {str(mode)!r}") from None


def confirmed_scale(organ: str, mode: str) -> ScoreScale:
    """The scale a reading of ``organ`` in ``mode`` is confirmed on (``ValueError`` for an unknown mode)."""
    return _BY_ORGAN_AND_MODE.get((str(organ), _mode(mode)), STIFFNESS)


def system_for(mode: str, organ: str) -> str:
    """The score system the engine uses for a mode and organ; raises ``ValueError`` for unknown pairs."""
    organs = values(Organ)
    if organ not in organs:
        raise ValueError(f"organ must be one of {organs}, got {str(organ)!r}")
    if mode not in values(Mode):
        raise ValueError(f"mode must be 'strain' or 'swe', got {str(mode)!r}")
    scale = _BY_ORGAN_AND_MODE.get((organ, Mode(mode)))
    if scale is None:
        raise ValueError(f"strain elastography is scored for breast (Tsukuba) or thyroid (Rago), not {str(organ)!r}")
    return scale.system


def scale_named(system: str | None) -> ScoreScale | None:
    """The confirmable scale with key ``system`` (as stored on a reading), or None for an unknown / missing key."""
    return CONFIRMED_SCALES.get(str(system)) if system else None


def headline_scale(organ: str) -> ScoreScale:
    """The organ's headline scale (:data:`HEADLINE_SCALE`); STIFFNESS for an organ outside it."""
    return SYSTEMS[HEADLINE_SCALE[organ]] if organ in HEADLINE_SCALE else STIFFNESS


def on_headline_scale(system: str, organ: str) -> bool:
    """True when a proposal of ``system`` is a number on ``organ``'s headline scale."""
    return HEADLINE_SCALE.get(organ) == system


def proposal_scale(system: str) -> str:
    """Short wording of the scale a proposed score of ``system`` is on (``""`` for an unknown system)."""
    scale = SYSTEMS.get(str(system))
    return scale.proposal_scale if scale else ""
