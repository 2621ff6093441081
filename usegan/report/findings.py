"""The figures a reader uses, in words, for page 1 of the report: scores with their scale and wording, the strain
ratio with both ROI means, lesion size and depth (mm when the pixel spacing is known), SWE Emean / Emax / Emin / SD
in kPa and m/s and the Eratio. Everything else the algorithm computed goes to the appendix (:func:`appendix_items`).
"""

from __future__ import annotations

import math

from usegan.report.data import ReportData, roi_mask
from usegan.report.labels import CONFIDENCE_SOURCES, LABELS
from usegan.scoring.systems import scale_named
from usegan.vocab import Mode

SWE_FIGURES = (("Emean", "emean_kpa", "mean_speed_ms"), ("Emax", "emax_kpa", "max_speed_ms"),
               ("Emin", "emin_kpa", "min_speed_ms"), ("SD", "sd_kpa", "sd_speed_ms"))  # fmt: skip


def _num(value, digits: int = 2) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return f"{value:.{digits}f}"


def describe_score(system: str | None, score: int | None, language: str = "en", label: str = "") -> str:
    """``"Tsukuba 4 — whole lesion hard"`` (scale name, score, wording) in the report's language; ``"-"`` for none.
    A system that is not a confirmed scale (e.g. the strain-ratio class) prints its own ``label``."""
    if score is None:
        return "-"
    scale = scale_named(system)
    if scale is None:
        return label or f"{system} {score}"
    return scale.describe(score, language)


def key_figures(data: ReportData) -> list[tuple[str, str]]:
    """``[(label, value)]`` for the findings table on page 1."""
    t = LABELS[data.language]
    proposal = data.proposal or {}
    figures = proposal.get("figures") or {}
    rows: list[tuple[str, str]] = []
    if data.mode == Mode.STRAIN:
        ratio = next((s for s in proposal.get("secondary") or [] if s.get("system") == "strain_ratio"), None)
        rf = (ratio or {}).get("figures") or {}
        if ratio is None:
            rows.append((t["strain_ratio"], t["no_reference"]))
        elif _num(rf.get("strain_ratio")) is None:
            rows.append((t["strain_ratio"], f"{t['not_measured']}: {ratio.get('reason') or '-'}"))
        else:
            detail = t["ratio_detail"].format(
                ratio=_num(rf["strain_ratio"]), fat=_num(rf.get("reference_mean_relative_strain")),
                lesion=_num(rf.get("lesion_mean_relative_strain")), cutoff=f"{rf.get('cutoff', '-'):g}",
            )  # fmt: skip
            rows.append((t["strain_ratio"], detail))
    else:
        for name, kpa, speed in SWE_FIGURES:
            if _num(figures.get(kpa)) is not None:
                ms = _num(figures.get(speed))
                rows.append((name, f"{figures[kpa]:.1f} kPa" + (f" ({ms} m/s)" if ms else "")))
        eratio = _num(figures.get("eratio"))
        ref = _num(figures.get("reference_emean_kpa"), 1)
        rows.append((t["eratio"], f"{eratio} (fat Emean {ref} kPa)" if eratio else t["no_reference"]))
    rows.extend(_size_and_depth(data, t))
    rows.extend(_confidence(data, t))
    return rows


def _size_and_depth(data: ReportData, t: dict) -> list[tuple[str, str]]:
    from usegan.scoring.confidence import framing
    from usegan.scoring.geometry import PixelSpacing, centre_depth, region_axes

    lesion = (data.rois or {}).get("lesion")
    if not isinstance(lesion, dict):
        return []
    height, width = data.bmode.shape[:2]  # ROIs are drawn on the B-mode, whose pixels the spacing describes
    mask = roi_mask(lesion, height, width, role="lesion")
    if not mask.any():
        return []
    spacing = PixelSpacing.of(data.pixel_spacing_mm, "case") if data.pixel_spacing_mm else None
    axes = region_axes(mask, spacing)
    depth_px = centre_depth(mask)
    if spacing is None:
        note = f" ({t['spacing_unknown']})"
        rows = [(t["lesion_size"], f"{axes.long_px:.0f} x {axes.short_px:.0f} px{note}"),
                (t["lesion_depth"], f"{depth_px:.0f} px{note}")]  # fmt: skip
    else:
        rows = [(t["lesion_size"], f"{axes.long_mm:.1f} x {axes.short_mm:.1f} mm"),
                (t["lesion_depth"], f"{depth_px * spacing.row_mm:.1f} mm")]  # fmt: skip
    if (framed := framing(mask)) is not None:  # how large the lesion is in the frame the model read
        caution = f" ({t['framing_caution']})" if framed.caution else ""
        rows.append((t["framing"], t["framing_value"].format(pct=framed.fraction) + caution))
    if data.recrop is not None:  # the reader re-cropped the case (a framed box, say): the model read that area
        x, y, w, h = data.recrop
        rows.append((t["image_area"], t["image_area_value"].format(x=x, y=y, w=w, h=h)))
    return rows


def _confidence(data: ReportData, t: dict) -> list[tuple[str, str]]:
    """The review page's confidence line (:func:`_roi_confidence`) as a findings row, with its source, and either
    its caution or what the lack of one does not mean (docs/fidelity.md, "Does the caution fall on the wrong
    readings?")."""
    if (sure := _roi_confidence(data)) is None:
        return []
    note = "roi_confidence_caution" if sure.caution else "roi_confidence_no_caution"
    caution = f" ({t[note]})" if sure.caution or sure.no_caution_is_no_reassurance else ""
    source = CONFIDENCE_SOURCES[data.language].get(sure.source, sure.source)
    value = t["roi_confidence_value"].format(mean=sure.mean, unsure=sure.unsure_fraction, source=source)
    return [(t["roi_confidence"], value + caution)]


def _roi_confidence(data: ReportData):
    """The :class:`~usegan.scoring.confidence.RoiConfidence` of the lesion ROI (else the Q-box, as on the review
    page) on the report's elastogram: from its stored uncertainty map where it has one, else from the colour-map
    distance. None without such an ROI or when it has no pixel in the colour box. (For a generation stored before
    maps were kept, the page may ask the model that made it again; the report does not run a model.)"""
    from usegan.colormaps import coloured_mask
    from usegan.scoring.confidence import quality_map, roi_confidence

    height, width = data.elastogram.shape[:2]
    role = next((r for r in ("lesion", "qbox") if isinstance((data.rois or {}).get(r), dict)), None)
    if role is None or not (mask := roi_mask(data.rois[role], height, width, role=role)).any():
        return None
    _, distance = data.inverted
    quality = quality_map(distance, data.colormap(), data.uncertainty, inside=coloured_mask(data.elastogram))
    return roi_confidence(quality, mask)


def appendix_items(data: ReportData) -> list[tuple[str, str]]:
    """Every plain figure behind the proposal (and its secondary results), by internal name, for the appendix."""
    proposal = data.proposal or {}
    items = []
    for prefix, result in [("", proposal), *[(f"{s.get('system')}.", s) for s in proposal.get("secondary") or []]]:
        for name, value in (result.get("figures") or {}).items():
            if isinstance(value, dict | list):
                continue
            shown = _num(value, 4) if isinstance(value, float) else str(value)
            items.append((f"{prefix}{name}", shown if shown is not None else "n/a"))
    return items
