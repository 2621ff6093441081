"""A small archive for the research tests, the notebook and the audit page: signed readings with generations,
proposals computed by the real scoring engine, ROIs, a real elastogram and blinded-reading sessions."""

from __future__ import annotations

import numpy as np

from usegan.colormaps import colormap_for

PATIENT_ID = "P-SECRET-4711"  # must never appear in an export or on the research pages
ORIGINAL_NAME = "MRN4711_smith.dcm"
NOTES = "Mrs Smith, ward 3, lesion type: malignant"
LESION = {"type": "rect", "x": 10, "y": 10, "w": 12, "h": 10}
REFERENCE = {"type": "polygon", "points": [[30.0, 2.0], [40.0, 2.0], [40.0, 8.0], [30.0, 8.0]]}
HARD, SOFT = 30, 180  # colour-map indices: uniform hard (Tsukuba 5) and uniform soft (Tsukuba 1)


def uniform_elastogram(lut_index: int, shape=(40, 48)) -> np.ndarray:
    return np.broadcast_to(colormap_for("strain").lut[lut_index].astype(np.uint8), (*shape, 3)).copy()


def uncertainty_map(sd: float, shape=(40, 48)) -> np.ndarray:
    """The model's per-pixel SD (relative strain): ``sd`` over the fixture's lesion ROI, half of it elsewhere."""
    out = np.full(shape, sd / 2, np.float32)
    out[LESION["y"] : LESION["y"] + LESION["h"], LESION["x"] : LESION["x"] + LESION["w"]] = sd
    return out


def signed_case(
    store, reader: str, lut_index: int, confirmed: int, version: str = "research-v1", real=False,
    sd: float | None = None,
) -> str:  # fmt: skip
    """A breast case with one strain generation of ``version`` (with a per-pixel uncertainty map of ``sd`` over the
    lesion when given), the algorithm's proposal on it and a reading by ``reader`` signed with ``confirmed``;
    returns the case id."""
    from usegan.services.service import score_rois
    from usegan.ui.roi_canvas import rois_from_json

    bmode = np.random.default_rng(lut_index + confirmed).integers(40, 200, (40, 48), dtype=np.uint8)
    case_id = store.create_case(bmode, organ="breast", created_by=reader, patient_id=PATIENT_ID,
                                original_name=ORIGINAL_NAME, notes=NOTES, lesion_type="malignant")  # fmt: skip
    scale = {"vmin": 0, "vmax": 1, "unit": "relative strain"}
    rgb = uniform_elastogram(lut_index)
    generation_id = store.add_generation(case_id, rgb, model_version=version, checkpoint_sha256="ab" * 32,
                                         mode="strain", colour_scale=scale, ms=1.0, created_by=reader,
                                         uncertainty=None if sd is None else uncertainty_map(sd))  # fmt: skip
    rois = {"lesion": LESION, "reference": REFERENCE}
    result = score_rois(rgb, "strain", scale, rois_from_json(rois), "breast")
    shown = store.add_prescore(case_id, generation_id, result.to_dict(), rois, created_by=reader)
    if real:
        store.attach_real_elastogram(case_id, uniform_elastogram(SOFT), "strain", "sample", created_by=reader)
    draft = store.save_draft(case_id, reader, rois, confirmed, "report text", expected_version=0,
                             generation_id=generation_id, prescore_id=shown)  # fmt: skip
    store.sign(case_id, reader, expected_version=draft.row_version)
    return case_id


def research_archive(store, reader: str = "dr_a", second_reader: str = "dr_b") -> list[str]:
    """Four signed cases (proposals 5, 5, 1, 1; confirmed 5, 4, 1, 2) with uncertainty maps (lesion SD 0.05, 0.3,
    0.1, 0.4: the two with the most uncertainty are the two the clinician changed), one with a real elastogram
    (the truth: soft, where the model painted it hard), and two blinded sessions (one moved to the proposal after
    the reveal, one not)."""
    cases = [
        signed_case(store, reader, HARD, 5, real=True, sd=0.05),
        signed_case(store, reader, HARD, 4, sd=0.3),
        signed_case(store, second_reader, SOFT, 1, sd=0.1),
        signed_case(store, second_reader, SOFT, 2, sd=0.4),
    ]
    session = store.start_blinded_reading(cases[1], "strain", second_reader, 3, 41.5)
    generation = store.latest_generation(cases[1], "strain")
    store.finish_blinded_reading(session, second_reader, 5, 12.0, generation_id=generation.generation_id,
                                 proposed_score=5, proposal_system="tsukuba")  # fmt: skip
    session = store.start_blinded_reading(cases[3], "strain", reader, 2, 30.0)
    store.finish_blinded_reading(session, reader, 2, 8.0, generation_id=None, proposed_score=1,
                                 proposal_system="tsukuba")  # fmt: skip
    return cases
