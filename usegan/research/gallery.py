"""The research gallery: one case's images as a researcher audits them, with no patient identifier.

For a case: the B-mode with the signed reading's ROIs, the virtual elastogram of every (mode, model version) that
generated one - the model versions side by side on the same case, each stamped VIRTUAL with its model version -
and the real elastogram of each mode where one is attached, all with the same ROI outlines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from usegan.ui.overlay import outline, stamp
from usegan.ui.roi_canvas import LESION_COLOUR, REFERENCE_COLOUR, roi_masks, rois_from_json

ROI_COLOURS = {"lesion": LESION_COLOUR, "reference": REFERENCE_COLOUR}
GALLERY_COLUMNS = [
    "case_id", "organ", "lesion_type", "mode", "scale", "model_version", "proposal_system", "proposed_score",
    "confirmed_score", "reader", "read_at",
]  # fmt: skip


@dataclass(frozen=True)
class Panel:
    """One image of the gallery."""

    title: str  # "B-mode", "VIRTUAL STRAIN - model x", "Real STRAIN: sample"
    rgb: np.ndarray  # (H, W, 3) uint8 with the ROI outlines (and the VIRTUAL strip for generated images)
    mode: str | None  # None for the B-mode
    model_version: str | None  # the generating model, for virtual images
    virtual: bool


def gallery_rows(readings: pd.DataFrame, *, disagreements_only: bool = False) -> pd.DataFrame:
    """The readings table (:func:`usegan.research.export.research_tables`) cut to what the gallery lists, newest
    first; ``disagreements_only`` keeps the readings whose confirmed score differs from the proposal."""
    rows = readings.reindex(columns=GALLERY_COLUMNS)
    if disagreements_only:
        known = rows.dropna(subset=["proposed_score", "confirmed_score"])
        rows = known[known["proposed_score"] != known["confirmed_score"]]
    return rows.sort_values("read_at", ascending=False, na_position="last").reset_index(drop=True)


def _rois(readings: pd.DataFrame, case_id: str) -> dict:
    """The ROIs of the case's newest signed reading (as drawn, in B-mode pixels)."""
    rows = readings[readings["case_id"] == case_id].sort_values("read_at")
    if rows.empty:
        return {}
    last = rows.iloc[-1]
    stored = {}
    for role in ("lesion", "reference"):
        text = last.get(f"{role}_roi")
        if isinstance(text, str) and text:
            stored[role] = json.loads(text)
    return rois_from_json(stored)


def case_panels(store, case_id: str, readings: pd.DataFrame) -> list[Panel]:
    """B-mode, every model version's virtual elastogram and the real elastograms of ``case_id``, with the ROIs of
    its signed reading outlined. Raises ``usegan.store.NotFoundError`` for an unknown case."""
    case = store.get_case(case_id)
    bmode = case.bmode()
    masks = roi_masks(_rois(readings, case_id), bmode.shape[:2])
    panels = [Panel("B-mode", outline(bmode, masks, ROI_COLOURS), None, None, False)]
    for g in store.case_generations(case_id).itertuples(index=False):
        label = f"VIRTUAL {str(g.mode).upper()} - model {g.model_version}"
        rgb = stamp(outline(store.images.get(g.elasto_sha), masks, ROI_COLOURS), label)
        panels.append(Panel(label, rgb, str(g.mode), str(g.model_version), True))
    newest_real: dict[str, dict] = {}
    for item in store.real_elastograms(case_id):
        newest_real[item["mode"]] = item  # oldest first: the last one of a mode wins
    for mode, item in sorted(newest_real.items()):
        rgb = outline(store.images.get(item["elasto_sha"]), masks, ROI_COLOURS)
        panels.append(Panel(f"Real {str(mode).upper()}: {item['source']}", rgb, mode, None, False))
    return panels
