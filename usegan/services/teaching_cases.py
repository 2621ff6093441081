"""Teaching cases from the archive: signed cases a clinician flagged for teaching, shown to students under a
teaching pseudonym (``T-xxxxxxxx``) with no case id or patient identifier, and scored against the signed reading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from usegan.research.gallery import ROI_COLOURS
from usegan.services.teaching import Grade
from usegan.ui.overlay import outline, stamp
from usegan.ui.roi_canvas import roi_masks, rois_from_json

LIST_COLUMNS = ["teaching_id", "mode", "organ", "lesion_type"]  # what a student may see before answering


@dataclass(frozen=True)
class ArchiveCase:
    teaching_id: str  # the pseudonym students see
    mode: str
    organ: str
    lesion_type: str | None
    confirmed_score: int  # the signed score: the answer key
    bmode: np.ndarray  # (H, W, 3) uint8 with the signed reading's ROIs outlined
    virtual: np.ndarray | None  # the VIRTUAL elastogram with outlines and its label strip, or None
    virtual_caption: str
    real: np.ndarray | None  # the attached real elastogram of the mode, outlined, or None

    @property
    def scale(self):
        """The :class:`usegan.scoring.systems.ScoreScale` the reading was signed on (and a student answers on):
        Tsukuba 1-5 for breast strain, breast SWE class 1-2, ..."""
        from usegan.scoring.systems import confirmed_scale

        return confirmed_scale(self.organ, self.mode)


def list_cases(store) -> pd.DataFrame:
    """Flagged cases without their answers (:data:`LIST_COLUMNS`)."""
    return store.teaching_cases().reindex(columns=LIST_COLUMNS)


def open_case(store, teaching_id: str) -> ArchiveCase:
    """One flagged case's images and answer key; ``KeyError`` for an unknown (or unflagged) pseudonym."""
    rows = store.teaching_cases()
    rows = rows[rows["teaching_id"] == teaching_id]
    if rows.empty:
        raise KeyError(f"no teaching case {teaching_id!r}")
    row = rows.iloc[0]
    mode = str(row["mode"])  # (a Series' .mode is a method)
    bmode = store.images.get(row.bmode_sha)
    rois = rois_from_json(json.loads(row.rois) if isinstance(row.rois, str) else row.rois)
    masks = roi_masks(rois, bmode.shape[:2])
    virtual, caption = None, ""
    if isinstance(row.elasto_sha, str):
        caption = f"VIRTUAL {str(row['mode']).upper()} elastogram - model {row.model_version}"
        virtual = stamp(outline(store.images.get(row.elasto_sha), masks, ROI_COLOURS), f"VIRTUAL - {row.model_version}")
    real = None
    if isinstance(row.real_elasto_sha, str):
        real = outline(store.images.get(row.real_elasto_sha), masks, ROI_COLOURS)
    lesion_type = row.lesion_type if isinstance(row.lesion_type, str) else None
    shown = outline(bmode, masks, ROI_COLOURS)
    return ArchiveCase(str(row.teaching_id), mode, str(row.organ), lesion_type, int(row.confirmed_score), shown,
                       virtual, caption, real)  # fmt: skip


def grade(answer: int, case: ArchiveCase) -> Grade:
    """A student's score against the clinician's signed score."""
    if int(answer) == case.confirmed_score:
        return Grade(True, f"Correct: the signed reading is {case.confirmed_score}.")
    return Grade(False, f"The signed reading is {case.confirmed_score}; you said {int(answer)}.")


def candidates(store) -> pd.DataFrame:
    """Signed cases (with the modes they were generated in) not yet flagged, for clinicians."""
    return store.teaching_candidates()


def flag(store, case_id: str, mode: str, user: str) -> str:
    return store.flag_for_teaching(case_id, mode, user)


def unflag(store, teaching_id: str, user: str) -> None:
    store.unflag_teaching(teaching_id, user)
