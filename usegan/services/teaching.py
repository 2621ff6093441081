"""The teaching lab: phantoms from parameters a lesion of that type can have, the model's virtual elastogram beside
the truth, and exercises a class can be graded on - Tsukuba scoring of the true *or* the virtual elastogram (so
the model's failures show), SWE stiffness in kPa, and drawing the lesion ROI - with a session tally.

Nothing here writes to the clinical store; archive teaching cases are read by :mod:`usegan.services.teaching_cases`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from usegan.colormaps import Colormap
from usegan.phantom.case import PhantomCase, make_case, random_case, teaching_params
from usegan.scoring import ScoreResult, propose
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS
from usegan.vocab import LESIONS, LesionType, Mode, Organ, ScoreSystem

LAB_LESION_TYPES = LESIONS
LAB_SHAPES = ("round", "oval", "lobulated", "spiculated")
TRUTH, VIRTUAL = "truth", "virtual"  # what an exercise is graded against
SWE_SCALE = {"vmin": 0.0, "vmax": 180.0, "unit": "kPa"}  # the phantom's SWE colour scale (breast preset)
STRAIN_SCALE = {"vmin": 0.0, "vmax": 1.0, "unit": "normalised strain"}

EXPLANATION = """
**Strain elastography (SE)** shows how much tissue deforms when the probe presses it. The colours are *relative*
(normalised to the tissue in the box): **red = soft** (strains a lot), green = intermediate, **blue = hard**.
The **Tsukuba score** (breast) reads the pattern: 1 the lesion strains like its surroundings, 2 mostly strained
with scattered hard spots, 3 soft rim and hard centre, 4 whole lesion hard, 5 lesion and surroundings hard.
The **strain ratio** is the mean strain of a reference fat ROI divided by the lesion's (about 3 or more is
suspicious). A cyst gives a blue-green-red layered "BGR" pattern.

**Shear-wave elastography (SWE)** measures how fast a shear wave travels and converts it to Young's modulus
(E = 3 rho c^2) on an **absolute scale in kPa**; here **blue = soft and red = stiff** (the opposite of SE).
In breast, Emax >= 80 kPa in the lesion is suspicious.

USE-GAN *estimates* such images from the B-mode alone: a virtual elastogram, not a measurement. B-mode only
partly predicts stiffness, which is why the clinician checks every score.
"""


@dataclass(frozen=True)
class LabRange:
    """What a lesion type can be in the lab: its stiffness (Young's modulus, kPa), size and shapes. Outside these
    the simulated truth contradicts itself (a "cyst" as stiff as a carcinoma scores Tsukuba 4 with a stiff SWE
    while its strain shows the cyst's BGR pattern)."""

    stiffness_kpa: tuple[float, float, float]  # (min, max, default) lesion modulus, kPa
    size_mm: tuple[float, float, float]  # (min, max, default) lesion size
    shapes: tuple[str, ...]  # shapes that type takes (the first is the default)
    why: str  # one line for the student


# The ranges of the phantom's own sampler (usegan.phantom.case.sample_params): fluid cysts 1.5-4 kPa, uniform
# fibroadenomas as soft as the gland (0.85-1.25x); carcinomas and a fibroadenoma's stiff foci several times the
# gland and 70-170 kPa (here at least 3.5x the gland, so a "carcinoma" is never as soft as its surroundings).
STIFF_KPA = (70.0, 170.0)
STIFF_FACTOR = 3.5
CYST = LabRange((1.5, 4.0, 2.5), (4.0, 14.0, 8.0), ("round", "oval"),
                "fluid: almost no shear stiffness, soft on SWE; on strain the BGR artefact")  # fmt: skip
SIZES: dict[str, tuple[float, float, float]] = {
    LesionType.FIBROADENOMA: (6.0, 16.0, 10.0),
    LesionType.MALIGNANT: (5.0, 15.0, 10.0),
    LesionType.MALIGNANT_HALO: (5.0, 11.0, 8.0),
    LesionType.ISO_STIFF: (6.0, 14.0, 10.0),
}
SHAPES: dict[str, tuple[str, ...]] = {
    LesionType.FIBROADENOMA: ("oval", "round", "lobulated"),
    LesionType.MALIGNANT: LAB_SHAPES,
    LesionType.MALIGNANT_HALO: LAB_SHAPES,
    LesionType.ISO_STIFF: ("round", "oval", "lobulated"),
}
WHY: dict[str, str] = {
    LesionType.MALIGNANT: "a carcinoma is stiff",
    LesionType.MALIGNANT_HALO: "a carcinoma with a stiff halo",
    LesionType.ISO_STIFF: "invisible on B-mode but stiff",
}


def lab_range(lesion_type: str, seed: int = 0) -> LabRange:
    """The parameter ranges of ``lesion_type`` for the gland (and fibroadenoma pattern) that ``seed`` draws."""
    if lesion_type == LesionType.CYST:
        return CYST
    if lesion_type not in SIZES:
        raise ValueError(f"lesion_type must be one of {tuple(LAB_LESION_TYPES)}, got {lesion_type!r}")
    params = teaching_params(lesion_type, seed=int(seed))
    gland = float(params.gland_kpa)
    if lesion_type == LesionType.FIBROADENOMA and params.pattern == "uniform":
        kpa = (round(0.85 * gland, 1), round(1.25 * gland, 1), round(gland, 1))
        why = f"a uniform fibroadenoma is about as soft as its gland ({gland:.0f} kPa here)"
    else:
        low = round(min(max(STIFF_KPA[0], STIFF_FACTOR * gland), STIFF_KPA[1] - 20), 1)
        kpa = (low, STIFF_KPA[1], round((low + STIFF_KPA[1]) / 2, 1))
        why = WHY.get(lesion_type, f"a fibroadenoma with stiff foci ({params.pattern})")
        why += f": {low:.0f}-{STIFF_KPA[1]:.0f} kPa against a {gland:.0f} kPa gland"
    return LabRange(kpa, SIZES[lesion_type], SHAPES[lesion_type], why)


def lab_gland_kpa(lesion_type: str, seed: int) -> float:
    """The gland's modulus (kPa) the phantom draws for ``seed`` (15-40 kPa)."""
    return float(teaching_params(lesion_type, seed=int(seed)).gland_kpa)


@dataclass(frozen=True)
class LabResult:
    case: PhantomCase  # the simulated case with its truth
    virtual: dict  # {mode: (H, W, 3) uint8} generated by the available models, in the box on the B-mode
    versions: dict  # {mode: model version}
    scales: dict = field(default_factory=dict)  # {mode: colour scale of the virtual image}


def lab_case(
    lesion_type: str,
    size_mm: float,
    depth_mm: float,
    stiffness_kpa: float,
    shape: str = "oval",
    seed: int = 0,
    size: int = 128,
) -> PhantomCase:
    """Simulate one phantom for the lab (``size`` pixels square; 128 keeps it interactive on a CPU) with a lesion
    of Young's modulus ``stiffness_kpa``.

    Raises ``ValueError`` naming the allowed range when a parameter is outside what ``lesion_type`` can be
    (:func:`lab_range`).
    """
    allowed = lab_range(lesion_type, seed)
    lo, hi, _ = allowed.stiffness_kpa
    if not lo - 1e-6 <= float(stiffness_kpa) <= hi + 1e-6:
        raise ValueError(f"a {lesion_type.replace('_', ' ')} here is {lo:g}-{hi:g} kPa ({allowed.why}), "
                         f"got {stiffness_kpa!r}")  # fmt: skip
    lo, hi, _ = allowed.size_mm
    if not lo - 1e-9 <= float(size_mm) <= hi + 1e-9:
        raise ValueError(f"a {lesion_type.replace('_', ' ')} in the lab is {lo:g}-{hi:g} mm, got {size_mm!r}")
    if shape not in allowed.shapes:
        raise ValueError(f"a {lesion_type.replace('_', ' ')} is {', '.join(allowed.shapes)}, not {shape!r}")
    ratio = float(stiffness_kpa) / lab_gland_kpa(lesion_type, seed)
    params = teaching_params(lesion_type, size_mm=size_mm, depth_mm=depth_mm, stiffness_ratio=ratio, shape=shape,
                             seed=seed)  # fmt: skip
    return make_case(params, seed=seed, size=size)


def run_lab(case: PhantomCase, elastographers: dict) -> LabResult:
    """Generate the virtual elastogram of the phantom's elastography box with each ``{mode: VirtualElastographer}``
    and show it in that box on the B-mode, exactly as the true elastograms are shown."""
    x, y, w, h = (int(v) for v in case.box)
    virtual, versions, scales = {}, {}, {}
    for mode, model in elastographers.items():
        if model is None:
            continue
        result = model.generate(np.ascontiguousarray(case.bmode[y : y + h, x : x + w]))
        shown = np.repeat(np.asarray(case.bmode, dtype=np.uint8)[..., None], 3, axis=2)
        shown[y : y + h, x : x + w] = result.rgb
        virtual[mode], versions[mode], scales[mode] = shown, result.model_version, dict(result.colour_scale)
    return LabResult(case, virtual, versions, scales)


def truth_scale(mode: str) -> dict:
    """The colour scale of the phantom's true elastogram of ``mode``."""
    return dict(SWE_SCALE if mode == Mode.SWE else STRAIN_SCALE)


def quiz_case(seed: int, size: int = 128) -> PhantomCase:
    """A random phantom with a lesion (the quiz asks for its Tsukuba score)."""
    return random_case(int(seed), size=size, types=list(LAB_LESION_TYPES))


# --- grading ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grade:
    correct: bool
    text: str  # what the student sees: the answer key, the truth, and what the model got wrong


def virtual_reading(lab: LabResult, mode: str) -> ScoreResult | None:
    """The scoring engine's reading of the *virtual* elastogram of ``mode`` inside the true lesion outline (what the
    virtual image shows), or None without that model."""
    if mode not in lab.virtual:
        return None
    cmap = Colormap.from_scale(mode, lab.scales.get(mode))
    return propose(lab.virtual[mode], mode, np.asarray(lab.case.mask, dtype=bool), organ=Organ.BREAST, colormap=cmap)


def grade_answer(answer: int, case: PhantomCase) -> tuple[bool, str]:
    """``(correct, explanation)`` for a student's Tsukuba answer on the TRUE elastogram of a quiz case."""
    truth = case.labels.get(ScoreSystem.TSUKUBA)
    if truth is None:
        return False, "This phantom has no scoreable lesion; try another case."
    kind = case.params.lesion_type.replace("_", " ")
    extra = " It is a cyst: note the blue-green-red layers." if case.labels.get("bgr") else ""
    if int(answer) == int(truth):
        return True, f"Correct: Tsukuba {truth} ({kind}).{extra}"
    return False, f"The true score is {truth} ({kind}); you said {int(answer)}.{extra}"


def grade_tsukuba(answer: int, lab: LabResult, against: str = TRUTH) -> Grade:
    """Grade a Tsukuba answer against the TRUE elastogram or against what the VIRTUAL one shows; the text always
    gives both, so the class sees where the model fails."""
    truth = lab.case.labels.get(ScoreSystem.TSUKUBA)
    virtual = virtual_reading(lab, Mode.STRAIN)
    shown = None if virtual is None else virtual.score
    comparison = ""
    if shown is not None and truth is not None:
        comparison = (f" The virtual image reads Tsukuba {shown}, the truth is {truth}: "
                      + ("the model got it right." if shown == truth else "a model failure to discuss."))  # fmt: skip
    elif virtual is not None:
        comparison = f" The virtual image cannot be scored ({virtual.reason})."
    if against == VIRTUAL:
        if shown is None:
            return Grade(False, "No virtual strain score to grade against." + comparison)
        ok = int(answer) == int(shown)
        head = f"Correct: the virtual image reads Tsukuba {shown}." if ok else (
            f"The virtual image reads Tsukuba {shown}; you said {int(answer)}.")  # fmt: skip
        return Grade(ok, head + comparison)
    correct, text = grade_answer(answer, lab.case)
    return Grade(correct, text + comparison)


SWE_TOLERANCE = 0.25  # an Emax estimate within 25 % (or 10 kPa) of the answer counts
SUSPICIOUS_KPA = DEFAULT_THRESHOLDS.breast_emax_suspicious_kpa  # breast: Emax at or above it is suspicious


def grade_emax(estimate_kpa: float, lab: LabResult, against: str = TRUTH) -> Grade:
    """Grade an Emax estimate (kPa) in the lesion against the TRUE stiffness or the VIRTUAL SWE image's reading."""
    if not estimate_kpa >= 0:
        raise ValueError(f"an Emax estimate is >= 0 kPa, got {estimate_kpa!r}")
    truth = lab.case.labels.get("emax_kpa")
    virtual = virtual_reading(lab, Mode.SWE)
    shown = None if virtual is None else (virtual.figures or {}).get("emax_kpa")
    key = shown if against == VIRTUAL else truth
    if key is None:
        return Grade(False, "Nothing to grade against: " + ("no virtual SWE reading." if against == VIRTUAL else
                                                              "this phantom has no lesion."))  # fmt: skip
    ok = abs(float(estimate_kpa) - float(key)) <= max(10.0, SWE_TOLERANCE * float(key))
    side = (f"suspicious (>= {SUSPICIOUS_KPA:g} kPa)" if float(key) >= SUSPICIOUS_KPA
            else f"below the {SUSPICIOUS_KPA:g} kPa cut-off")  # fmt: skip
    source = "the virtual image shows" if against == VIRTUAL else "the true lesion has"
    verdict = "Correct" if ok else "Not quite"
    text = f"{verdict}: {source} Emax {float(key):.0f} kPa, {side}; you said {estimate_kpa:.0f}."
    if shown is not None and truth is not None:
        text += f" Truth {float(truth):.0f} kPa, virtual image {float(shown):.0f} kPa."
    return Grade(ok, text)


DICE_PASS = 0.7  # a drawn lesion ROI overlapping the true lesion with Dice >= 0.7 passes


def grade_roi(drawn: np.ndarray | None, case: PhantomCase) -> Grade:
    """Grade a drawn lesion ROI (``(H, W)`` bool mask on the B-mode) by its Dice overlap with the true lesion."""
    truth = np.asarray(case.mask, dtype=bool)
    if drawn is None or not np.asarray(drawn).any():
        return Grade(False, "Draw the lesion's outline on the B-mode first.")
    drawn = np.asarray(drawn, dtype=bool)
    if drawn.shape != truth.shape:
        raise ValueError(f"the drawn mask is {drawn.shape}, the B-mode {truth.shape}")
    dice = 2.0 * float((drawn & truth).sum()) / float(drawn.sum() + truth.sum())
    ok = dice >= DICE_PASS
    advice = "" if ok else (" Too large: the ROI includes surrounding tissue." if drawn.sum() > 1.5 * truth.sum()
                            else " Trace the lesion's edge, not just part of it.")  # fmt: skip
    return Grade(ok, f"Dice overlap with the true lesion {dice:.2f} ({'pass' if ok else 'below'} {DICE_PASS}).{advice}")


# --- the session tally --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tally:
    """Right answers per exercise in this session; each case counts once (its first graded answer)."""

    counts: dict = field(default_factory=dict)  # {exercise: (correct, attempted)}
    graded: frozenset = frozenset()  # {(exercise, case key)} already counted

    def record(self, exercise: str, case_key, correct: bool) -> Tally:
        if (exercise, case_key) in self.graded:
            return self
        right, tried = self.counts.get(exercise, (0, 0))
        counts = self.counts | {exercise: (right + int(bool(correct)), tried + 1)}
        return replace(self, counts=counts, graded=self.graded | {(exercise, case_key)})

    @property
    def total(self) -> tuple[int, int]:
        return sum(c for c, _ in self.counts.values()), sum(t for _, t in self.counts.values())


def truth_mask_outline(case: PhantomCase) -> np.ndarray:
    """The lesion mask, for drawing its outline on the truth image."""
    return np.asarray(case.mask, dtype=bool)
