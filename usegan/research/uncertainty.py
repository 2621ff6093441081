"""What the model's stored uncertainty says about each signed reading, for the research audit's calibration.

Per reading, from the generation it was read on (:meth:`usegan.store.Generation.uncertainty`) and its lesion ROI
as the proposal scored it (a rectangle is its inscribed ellipse, :func:`usegan.scoring.roi.lesion_mask`):

* ``lesion_uncertainty``: the mean predicted standard deviation inside the lesion, in the colour scale's unit
  (relative strain or kPa);
* ``lesion_uncertainty_position``: the same as a fraction of the colour scale's span (colour-map position units),
  comparable between strain and SWE readings;
* where a real elastogram of the case and mode gives the truth (a phantom's true elastogram, a scanner's
  measurement): ``lesion_virtual_mean`` and ``lesion_real_mean``, the lesion's mean strain / kPa on each, and
  ``lesion_error_position``, their absolute difference as a fraction of the span.

A calibrated model's predicted SD matches the size of its errors: :func:`usegan.research.stats.error_calibration`
compares them. Every input is content-addressed (image sha256s, the ROI as JSON), so answers are cached.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np

from usegan.colormaps import Colormap

UNCERTAINTY_COLUMNS = [
    "lesion_uncertainty", "lesion_uncertainty_position", "lesion_virtual_mean", "lesion_real_mean",
    "lesion_error_position",
]  # fmt: skip
NOTHING = dict.fromkeys(UNCERTAINTY_COLUMNS, math.nan)


def _text(value) -> str | None:
    """A JSON column's value as text (None for a missing one), so it can key the cache."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def reading_uncertainty(images, row) -> dict[str, float]:
    """The :data:`UNCERTAINTY_COLUMNS` of one row of :meth:`usegan.store.Store.signed_readings` (NaN where a
    figure cannot be had: no map, no lesion ROI, no real elastogram, another image size)."""
    lesion = (json.loads(_text(row.rois) or "{}") or {}).get("lesion")
    if not lesion or not isinstance(row.elasto_sha, str):
        return dict(NOTHING)
    step = row.uncertainty_step
    return dict(
        _figures(
            images,
            str(row.mode),
            _text(row.colour_scale),
            json.dumps(lesion, sort_keys=True),
            int(row.height),
            int(row.width),
            row.elasto_sha,
            row.uncertainty_sha if isinstance(row.uncertainty_sha, str) else None,
            float(step) if step is not None and not (isinstance(step, float) and math.isnan(step)) else None,
            row.real_elasto_sha if isinstance(row.real_elasto_sha, str) else None,
            _text(getattr(row, "real_colour_scale", None)),
        )  # fmt: skip
    )


@lru_cache(maxsize=4096)
def _figures(images, mode, scale_json, lesion_json, height, width, elasto_sha, sd_sha, step, real_sha, real_json):
    from usegan.scoring.roi import RoiError, lesion_mask, roi_from_dict
    from usegan.store.uncertainty import decode_uncertainty

    try:
        mask = lesion_mask(roi_from_dict(json.loads(lesion_json)), (height, width))[0]
    except (RoiError, KeyError, TypeError, ValueError):
        return tuple(NOTHING.items())
    out = dict(NOTHING)
    cmap = Colormap.from_scale(mode, json.loads(scale_json) if scale_json else None)
    span = float(cmap.vmax - cmap.vmin)
    if sd_sha is not None and step is not None:
        sd = decode_uncertainty(images.read_bytes(sd_sha), step)
        if sd.shape == mask.shape:
            out["lesion_uncertainty"] = float(sd[mask].mean())
            out["lesion_uncertainty_position"] = out["lesion_uncertainty"] / span
    out["lesion_virtual_mean"] = _lesion_mean(images.get(elasto_sha), cmap, mask)
    if real_sha is not None:
        real_map = Colormap.from_scale(mode, json.loads(real_json) if real_json else None)
        out["lesion_real_mean"] = _lesion_mean(images.get(real_sha), real_map, mask)
        out["lesion_error_position"] = abs(out["lesion_virtual_mean"] - out["lesion_real_mean"]) / span
    return tuple(out.items())


def _lesion_mean(rgb: np.ndarray, cmap: Colormap, mask: np.ndarray) -> float:
    """Mean strain / kPa of the lesion's on-map pixels (NaN when the image has another size or none is on the map)."""
    if rgb.ndim != 3 or rgb.shape[:2] != mask.shape:
        return math.nan
    values = cmap.invert(rgb)[0][mask]
    known = values[np.isfinite(values)]
    return float(known.mean()) if known.size else math.nan
