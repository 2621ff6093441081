"""Evaluate a generator on a phantom test folder: image quality inside the elastography box and pre-score agreement.

Per case (folder written by ``usegan phantom``), cropped to its elastography box as in training (the app generates
a full-field virtual elastogram of the image or of the region the user crops to):

* SSIM, PSNR and colour-histogram intersection of the generated vs the true elastogram, inside the box;
* the algorithm's pre-score (:func:`usegan.scoring.propose`) on the *generated* elastogram with the true lesion
  mask as ROI, against the ground-truth class: Tsukuba from the true strain (strain models), or the SWE
  interpretation class from the true kPa map (SWE models);
* SWE models: mean absolute error in kPa inside the lesion and inside the box (generated scalar vs the true
  elastogram decoded through the colour map), and the lesion error by lesion type and by whether the B-mode shows
  the lesion (:func:`lesion_errors`: where the error sits, and how much of it is a bias);
* the same kappa over the lesions the B-mode shows (:func:`usegan.training.metrics.lesion_contrast` >= 0.8): an
  iso-echoic stiff lesion has no B-mode sign a virtual elastogram could follow, so the full kappa has a ceiling;
* NCC (normalised cross-correlation) of the generated scalar with the true elastogram's scalar inside the box;
* off-map fraction: pixels of the generated RGB that are not a colour of the map (0 by construction);
* uncertainty calibration: Spearman rank correlation of the predicted standard deviation with the absolute error,
  and the coverage of the predicted 90 % interval (Laplace: scalar +/- b ln 10, b = std / sqrt 2), over pixels.

The pre-score uses the generated scalar directly (:func:`usegan.scoring.propose` with ``scalar=``); a free-RGB
ablation model is scored through its colours. Aggregates: means, quadratic-weighted Cohen's kappa and the
confusion matrix of pre-score vs truth.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from usegan.inference import VirtualElastographer
from usegan.training.metrics import (
    VISIBLE_LESION_CONTRAST,
    colour_histogram_intersection,
    confusion_matrix,
    crop_box,
    lesion_contrast,
    psnr_rgb,
    quadratic_weighted_kappa,
    ssim_rgb,
)
from usegan.vocab import LesionType

CARCINOMAS = (LesionType.MALIGNANT, LesionType.MALIGNANT_HALO)  # the phantom's carcinoma types

CLASSES = [1, 2, 3, 4, 5]


@dataclass
class EvaluationReport:
    model_version: str  # the evaluated checkpoint's version
    mode: str  # "strain" or "swe"
    data: str  # test folder
    n_cases: int  # cases evaluated
    ssim_box: float  # mean SSIM inside the elastography box
    psnr_box: float  # mean PSNR (dB) inside the box
    hist_intersection_box: float  # mean colour-histogram intersection inside the box
    kappa: float  # quadratic-weighted kappa, pre-score on generated vs ground truth
    accuracy: float  # exact agreement of those classes
    n_scored: int  # cases where both the truth and the pre-score had a class
    kappa_visible: float | None = None  # the same over lesions the B-mode shows (lesion_contrast >= 0.8)
    n_scored_visible: int = 0  # how many of the scored cases those are
    confusion: list = field(default_factory=list)  # rows truth 1..5, columns pre-score 1..5
    mae_kpa_lesion: float | None = None  # SWE only
    mae_kpa_box: float | None = None  # SWE only
    lesion_errors: dict = field(default_factory=dict)  # SWE only: :func:`lesion_errors` of the per-case rows
    ncc_box: float | None = None  # mean NCC of the generated scalar with the truth inside the box
    off_map_fraction: float = 0.0  # mean fraction of generated pixels not on the colour map
    off_map_max: float = 0.0  # largest per-case off-map fraction
    uncertainty_spearman: float | None = None  # rank correlation of predicted std with |error| (pixels)
    interval90_coverage: float | None = None  # fraction of pixels whose truth lies in the predicted 90 % interval
    precision: str = "fp32"  # the engine's arithmetic ("fp32" or "bf16")
    size: int = 256  # the side the generator ran at (VirtualElastographer.size)
    per_case: list = field(default_factory=list)  # one dict per case (also written as CSV)

    def summary(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "per_case"}


def crop_case(case: dict, mode: str) -> dict:
    """A phantom case cropped to its elastography box: ``bmode``, ``real`` (the true elastogram), ``mask`` and
    ``stiffness_kpa`` of the box only."""
    b = case["meta"]["box"]
    x, y, w, h = int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"])
    real = case["strain_rgb"] if mode == "strain" else case["swe_rgb"]
    return {
        **case,
        "bmode": crop_box(case["bmode"], (x, y, w, h)),
        "real": crop_box(real, (x, y, w, h)),
        "mask": crop_box(case["mask"], (x, y, w, h)),
        "stiffness_kpa": crop_box(case["stiffness_kpa"], (x, y, w, h)),
    }


def truth_class(case: dict, mode: str, organ: str = "breast") -> int | None:
    """Ground-truth class of a phantom case: Tsukuba (strain) or the SWE interpretation of the true kPa map."""
    if not case["mask"].any():
        return None
    if mode == "strain":
        value = case["meta"]["labels"].get("tsukuba")
        return None if value is None else int(value)
    from usegan.scoring import qbox

    return qbox(case["stiffness_kpa"], case["mask"], organ=organ).score


def evaluate_cases(
    engine: VirtualElastographer, folders: list[Path], organ: str = "breast", batch_size: int = 8
) -> EvaluationReport:
    from scipy.stats import spearmanr

    from usegan.inference import on_map_fraction_off
    from usegan.phantom.writer import read_case
    from usegan.scoring import propose

    mode = engine.info.mode
    cmap = engine.info.colormap
    rows: list[dict] = []
    truths, preds, visible = [], [], []
    sample_err, sample_std, covered = [], [], []
    rng = np.random.default_rng(0)
    for start in range(0, len(folders), batch_size):
        cases = [crop_case(read_case(f), mode) for f in folders[start : start + batch_size]]
        outputs = engine.generate_batch([c["bmode"] for c in cases], batch_size=batch_size)
        for case, out in zip(cases, outputs, strict=True):
            real = case["real"]
            row = {
                "name": case["name"],
                "lesion_type": case["meta"]["params"]["lesion_type"],
                "ssim_box": ssim_rgb(out.rgb, real),
                "psnr_box": psnr_rgb(out.rgb, real),
                "hist_intersection_box": colour_histogram_intersection(out.rgb, real),
            }
            truth = truth_class(case, mode, organ)
            pred = None
            if case["mask"].any():
                pred = propose(out.rgb, mode, case["mask"], organ=organ, colormap=cmap, scalar=out.scalar).score
                row["lesion_contrast"] = lesion_contrast(case["bmode"].astype(np.float32), case["mask"])
            row.update(truth=truth, prescore=pred, off_map_fraction=on_map_fraction_off(out.rgb, cmap))
            if truth is not None and pred is not None:
                truths.append(truth)
                preds.append(pred)
                visible.append(row["lesion_contrast"] >= VISIBLE_LESION_CONTRAST)
            fake_scalar = out.scalar if out.scalar is not None else cmap.invert(out.rgb)[0]
            real_scalar, _ = cmap.invert(real)
            both = np.isfinite(fake_scalar) & np.isfinite(real_scalar)
            row["ncc_box"] = _ncc(fake_scalar[both], real_scalar[both])
            if out.uncertainty is not None and both.any():
                err = np.abs(fake_scalar - real_scalar)[both]
                std = out.uncertainty[both]
                pick = rng.choice(err.size, size=min(400, err.size), replace=False)
                sample_err.append(err[pick])
                sample_std.append(std[pick])
                covered.append(float(np.mean(err <= std / np.sqrt(2.0) * np.log(10.0))))
            if mode == "swe":
                fake_kpa, real_kpa = fake_scalar, real_scalar
                valid = np.isfinite(fake_kpa) & np.isfinite(real_kpa)
                err = np.abs(np.nan_to_num(fake_kpa) - np.nan_to_num(real_kpa))
                row["mae_kpa_box"] = float(err[valid].mean()) if valid.any() else None
                lesion = case["mask"] & valid
                row["mae_kpa_lesion"] = float(err[lesion].mean()) if lesion.any() else None
                row["bias_kpa_lesion"] = float((fake_kpa - real_kpa)[lesion].mean()) if lesion.any() else None
                row["truth_kpa_lesion"] = float(real_kpa[lesion].mean()) if lesion.any() else None
            rows.append(row)

    def mean(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return float(np.mean(values)) if values else None

    return EvaluationReport(
        model_version=engine.info.version,
        precision=engine.precision,
        size=engine.size,
        mode=mode,
        data=str(folders[0].parent) if folders else "",
        n_cases=len(rows),
        ssim_box=mean("ssim_box"),
        psnr_box=mean("psnr_box"),
        hist_intersection_box=mean("hist_intersection_box"),
        kappa=quadratic_weighted_kappa(truths, preds, CLASSES) if truths else float("nan"),
        accuracy=float(np.mean(np.array(truths) == np.array(preds))) if truths else float("nan"),
        n_scored=len(truths),
        kappa_visible=quadratic_weighted_kappa(
            [t for t, v in zip(truths, visible, strict=True) if v],
            [p for p, v in zip(preds, visible, strict=True) if v],
            CLASSES,
        )
        if any(visible)
        else None,
        n_scored_visible=int(sum(visible)),
        confusion=confusion_matrix(truths, preds, CLASSES).tolist(),
        mae_kpa_lesion=mean("mae_kpa_lesion") if mode == "swe" else None,
        mae_kpa_box=mean("mae_kpa_box") if mode == "swe" else None,
        lesion_errors=lesion_errors(rows) if mode == "swe" else {},
        ncc_box=mean("ncc_box"),
        off_map_fraction=mean("off_map_fraction") or 0.0,
        off_map_max=max((r["off_map_fraction"] for r in rows), default=0.0),
        uncertainty_spearman=float(spearmanr(np.concatenate(sample_err), np.concatenate(sample_std))[0])
        if sample_err
        else None,
        interval90_coverage=float(np.mean(covered)) if covered else None,
        per_case=rows,
    )


def lesion_errors(rows: list[dict]) -> dict[str, dict]:
    """SWE lesion error of per-case rows (of :func:`evaluate_cases`) by lesion type, ``"all"`` first.

    Each group (rows with a ``mae_kpa_lesion``): ``n``; ``mae`` and ``bias`` (mean generated minus true kPa inside
    the lesion: what a constant offset would remove), ``truth`` (mean true lesion kPa), all in kPa; and
    ``mae_visible`` / ``n_visible``, ``mae_hidden`` / ``n_hidden`` split by whether the B-mode shows the lesion
    (``lesion_contrast`` >= :data:`VISIBLE_LESION_CONTRAST`). A mean over no case is None.
    """

    def mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    scored = [r for r in rows if r.get("mae_kpa_lesion") is not None]
    groups = {"all": scored}
    for kind in sorted({str(r["lesion_type"]) for r in scored}):
        groups[kind] = [r for r in scored if str(r["lesion_type"]) == kind]
    table = {}
    for name, group in groups.items():
        shows = [r for r in group if r.get("lesion_contrast", 0.0) >= VISIBLE_LESION_CONTRAST]
        hidden = [r for r in group if r.get("lesion_contrast", 0.0) < VISIBLE_LESION_CONTRAST]
        table[name] = {
            "n": len(group),
            "mae": mean([r["mae_kpa_lesion"] for r in group]),
            "bias": mean([r["bias_kpa_lesion"] for r in group]),
            "truth": mean([r["truth_kpa_lesion"] for r in group]),
            "mae_visible": mean([r["mae_kpa_lesion"] for r in shows]),
            "n_visible": len(shows),
            "mae_hidden": mean([r["mae_kpa_lesion"] for r in hidden]),
            "n_hidden": len(hidden),
        }
    return table


def _ncc(a: np.ndarray, b: np.ndarray) -> float | None:
    """Normalised cross-correlation (Pearson r) of two 1-D samples; None when either is constant or empty."""
    if a.size < 2 or a.std() < 1e-9 or b.std() < 1e-9:
        return None
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (a.std() * b.std()))


def set_summary(engine: VirtualElastographer, data: str | Path) -> dict:
    """Evaluate ``engine`` on the phantom folder ``data`` into a JSON-ready dict: ``cases`` (case name ->
    ``(truth, pre-score)``, for :func:`usegan.research.stats.paired_kappa_change`), ``kappa``, ``kappa_visible``,
    ``ncc``, ``mae_kpa_lesion``, ``carcinomas_under_read`` of ``carcinomas_scored`` (pre-score below the truth) and
    ``off_map_max``."""
    report = evaluate_cases(engine, case_folders(data))
    carcinomas = [
        r for r in report.per_case if r["lesion_type"] in CARCINOMAS and None not in (r["truth"], r["prescore"])
    ]
    return {
        "cases": {r["name"]: (r["truth"], r["prescore"]) for r in report.per_case},
        "kappa": report.kappa,
        "kappa_visible": report.kappa_visible,
        "ncc": report.ncc_box,
        "mae_kpa_lesion": report.mae_kpa_lesion,
        "lesion_errors": report.lesion_errors,
        "carcinomas_under_read": sum(r["prescore"] < r["truth"] for r in carcinomas),
        "carcinomas_scored": len(carcinomas),
        "off_map_max": report.off_map_max,
    }


#: the columns :func:`summary_cells` fills, after a table's kappa (and its change) columns
SUMMARY_COLUMNS = ("kappa, lesions the B-mode shows", "NCC", "SWE lesion MAE, kPa", "carcinomas read softer",
                   "off-map max")  # fmt: skip


def summary_cells(summary: dict) -> list[str]:
    """A :func:`set_summary` as the table cells of :data:`SUMMARY_COLUMNS` (empty where a measure does not apply)."""

    def cell(value, fmt: str = "{:.3f}") -> str:
        return "" if value is None else fmt.format(value)

    return [
        cell(summary["kappa_visible"]),
        cell(summary["ncc"]),
        cell(summary["mae_kpa_lesion"], "{:.1f}"),
        f"{summary['carcinomas_under_read']} of {summary['carcinomas_scored']}",
        cell(summary.get("off_map_max")),
    ]


def case_folders(data: str | Path, limit: int | None = None) -> list[Path]:
    """Case folders of a phantom test set, in name order (those listed in index.csv, else every subfolder)."""
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such test folder")
    folders = sorted(p.parent for p in root.glob("*/meta.json"))
    if not folders:
        raise FileNotFoundError(f"{root}: no case folders (expected <case>/meta.json as written by usegan phantom)")
    return folders[:limit] if limit else folders


def write_per_case_csv(report: EvaluationReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for row in report.per_case for k in row}, key=lambda k: (k != "name", k))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(report.per_case)
    return path


def report_json(report: EvaluationReport) -> str:
    return json.dumps(report.summary(), indent=2, default=float)
