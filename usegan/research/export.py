"""The research export: one folder a notebook opens with :func:`load_export`.

Layout (schema in ``docs/export.md``; ``schema.json`` in the folder lists the columns)::

    readings.parquet|csv      one row per signed reading: scale, generation, checkpoint hash, ROIs, every figure
    reader_sessions.parquet|csv  blinded-reading sessions, one row per phase (blinded True / False)
    images/<case_id>/bmode.png, virtual_<mode>_<model_version>.png (PNG text: VIRTUAL + model), real_<mode>.png
    images/<case_id>/uncertainty_<mode>_<model_version>.npz   the model's per-pixel SD (``sd``), where it has one
    masks/<reading_id>_lesion.png, masks/<reading_id>_reference.png   (0 / 255, the B-mode's size)
    schema.json

No patient identifiers leave the store: no patient id or name, original file name, notes, conclusion text or
DICOM UID; readers appear as codes (``R1``, ``R2`` ... in order of their first reading).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from usegan import VIRTUAL_LABEL
from usegan.research.uncertainty import UNCERTAINTY_COLUMNS, reading_uncertainty
from usegan.scoring.systems import HEADLINE_SCALE

EXPORT_VERSION = 2  # 2: uncertainty and error figures per reading, uncertainty maps
FORMATS = ("parquet", "csv")

READING_COLUMNS = [
    "reading_id", "case_id", "organ", "lesion_type", "mode", "scale", "status", "version", "reader", "read_at",
    "generation_id", "model_version", "checkpoint_sha256", "colour_vmin", "colour_vmax", "colour_unit",
    "prescore_id", "proposal_system", "algorithm_version", "proposed_score", "proposal_raw_score",
    "confirmed_score", "blinded", "lesion_roi", "reference_roi", "lesion_x", "lesion_y", "lesion_w", "lesion_h",
    "reference_x", "reference_y", "reference_w", "reference_h", "figures", *UNCERTAINTY_COLUMNS,
    "image_height", "image_width", "pixel_spacing_row_mm", "pixel_spacing_col_mm", "bmode_path", "virtual_path",
    "real_path", "uncertainty_path", "lesion_mask_path", "reference_mask_path",
]  # fmt: skip
SESSION_COLUMNS = [
    "session_id", "case_id", "organ", "mode", "scale", "reader", "blinded", "reader_score", "seconds",
    "proposed_score", "proposal_system", "confirmed_score", "generation_id", "model_version", "checkpoint_sha256",
    "started_at",
]  # fmt: skip
FIGURE_PREFIX = "fig_"  # every scalar figure behind a proposal also gets a column fig_<name>


def _json(text) -> dict:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return {}
    return json.loads(text) if isinstance(text, str) else dict(text)


def _bbox(roi: dict | None) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` in image pixels of a stored ROI (rectangle or polygon); NaNs without one."""
    if not roi:
        return (math.nan,) * 4
    if roi.get("type") == "rect":
        return float(roi["x"]), float(roi["y"]), float(roi["w"]), float(roi["h"])
    points = np.asarray(roi.get("points") or [], dtype=float).reshape(-1, 2)
    if len(points) == 0:
        return (math.nan,) * 4
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def reader_codes(usernames) -> dict[str, str]:
    """``{username: "R1", ...}`` in order of first appearance (user names stay in the store)."""
    codes: dict[str, str] = {}
    for name in usernames:
        if isinstance(name, str) and name not in codes:
            codes[name] = f"R{len(codes) + 1}"
    return codes


def _flat_figures(figures: dict) -> dict[str, float]:
    out = {}
    for key, value in figures.items():
        if isinstance(value, bool):
            out[FIGURE_PREFIX + key] = float(value)
        elif isinstance(value, int | float):
            out[FIGURE_PREFIX + key] = float(value)
    return out


def readings_table(raw: pd.DataFrame, codes: dict[str, str], images=None) -> pd.DataFrame:
    """The store's signed readings (:meth:`usegan.store.Store.signed_readings`) in the export's schema, without
    the image paths (filled in by :func:`export_research`). With the store's ``images``, each reading's
    uncertainty and error figures (:mod:`usegan.research.uncertainty`) are filled in; NaN without."""
    rows = []
    for r in raw.itertuples(index=False):
        scale = str(r.scale) if getattr(r, "scale", None) else HEADLINE_SCALE.get(r.organ)  # the reading's own
        proposal = _json(r.proposal)
        system = proposal.get("system")
        raw_score = r.proposed_score if r.proposed_score is not None and not pd.isna(r.proposed_score) else None
        rois = _json(r.rois)
        colour = _json(r.colour_scale)
        lesion, reference = rois.get("lesion"), rois.get("reference")
        figures = proposal.get("figures") or {}
        row = {
            "reading_id": r.reading_id, "case_id": r.case_id, "organ": r.organ, "lesion_type": r.lesion_type,
            "mode": r.mode, "scale": scale, "status": r.status, "version": int(r.version),
            "reader": codes.get(r.reviewer), "read_at": r.signed_at, "generation_id": r.generation_id,
            "model_version": r.model_version, "checkpoint_sha256": r.checkpoint_sha256,
            "colour_vmin": colour.get("vmin"), "colour_vmax": colour.get("vmax"), "colour_unit": colour.get("unit"),
            "prescore_id": r.prescore_id, "proposal_system": system, "algorithm_version": r.algorithm_version,
            # The proposal is compared with the confirmed score only when it is a number on the same scale.
            "proposed_score": raw_score if system is not None and system == scale else None,
            "proposal_raw_score": raw_score, "confirmed_score": r.confirmed_score, "blinded": False,
            "lesion_roi": json.dumps(lesion) if lesion else None,
            "reference_roi": json.dumps(reference) if reference else None,
            "figures": json.dumps(figures, sort_keys=True),
            "image_height": int(r.height), "image_width": int(r.width),
            "pixel_spacing_row_mm": r.spacing_row_mm, "pixel_spacing_col_mm": r.spacing_col_mm,
        }  # fmt: skip
        for prefix, roi in (("lesion", lesion), ("reference", reference)):
            for key, value in zip("xywh", _bbox(roi), strict=True):
                row[f"{prefix}_{key}"] = value
        if images is not None:
            row |= reading_uncertainty(images, r)
        rows.append(row | _flat_figures(figures))
    table = pd.DataFrame(rows)
    figure_columns = sorted(c for c in table.columns if c.startswith(FIGURE_PREFIX))
    table = table.reindex(columns=[*READING_COLUMNS, *figure_columns])
    for column in ("proposed_score", "proposal_raw_score", "confirmed_score"):
        table[column] = table[column].astype("Int64")
    for column in UNCERTAINTY_COLUMNS:
        table[column] = table[column].astype(float)
    table["blinded"] = table["blinded"].astype(bool)
    return table


def sessions_table(raw: pd.DataFrame, confirmed: pd.DataFrame, codes: dict[str, str]) -> pd.DataFrame:
    """Blinded-reading sessions (:meth:`usegan.store.Store.blinded_readings`) in long format: one row for the
    score before the reveal (``blinded`` True) and one for the score after (False, once given), with the signed
    score of the same case and mode where one exists (``confirmed``: columns case_id, mode, confirmed_score)."""
    rows = []
    signed = {(c.case_id, c.mode): c.confirmed_score for c in confirmed.itertuples(index=False)}
    for r in raw.itertuples(index=False):
        common = {
            "session_id": r.session_id, "case_id": r.case_id, "organ": r.organ, "mode": r.mode,
            "scale": HEADLINE_SCALE.get(r.organ), "reader": codes.get(r.reader), "proposed_score": r.proposed_score,
            "proposal_system": r.proposal_system, "confirmed_score": signed.get((r.case_id, r.mode)),
            "generation_id": r.generation_id, "model_version": r.model_version,
            "checkpoint_sha256": r.checkpoint_sha256, "started_at": r.started_at,
        }  # fmt: skip
        rows.append(common | {"blinded": True, "reader_score": r.blinded_score, "seconds": r.blinded_seconds})
        if r.unblinded_score is not None and not pd.isna(r.unblinded_score):
            rows.append(common | {"blinded": False, "reader_score": r.unblinded_score, "seconds": r.unblinded_seconds})
    table = pd.DataFrame(rows).reindex(columns=SESSION_COLUMNS)
    for column in ("reader_score", "proposed_score", "confirmed_score"):
        table[column] = table[column].astype("Int64")
    table["blinded"] = table["blinded"].astype(bool)
    table["seconds"] = table["seconds"].astype(float)
    return table


def research_tables(store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(readings, reader_sessions)`` in the export's schema, without image paths (what the audit page shows)."""
    raw, sessions = store.signed_readings(), store.blinded_readings()
    codes = reader_codes([*raw["reviewer"].tolist(), *sessions["reader"].tolist()])
    readings = readings_table(raw, codes, store.images)
    return readings, sessions_table(sessions, readings[["case_id", "mode", "confirmed_score"]], codes)


def _write_table(df: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def export_research(store, dest: str | Path, fmt: str = "parquet", *, images: bool = True) -> Path:
    """Write the research export into ``dest`` (created; must be empty or new) and return its path.

    ``images``: also write each reading's B-mode, virtual elastogram (with the VIRTUAL label and model version as
    PNG text), the real elastogram where attached, and the ROI masks.
    """
    from usegan.imageio import save_png
    from usegan.scoring.roi import RoiError, roi_from_dict, roi_to_mask

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty: export into a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    raw = store.signed_readings()
    readings, sessions = research_tables(store)
    paths = {c: [None] * len(readings) for c in READING_COLUMNS if c.endswith("_path")}
    if images:
        for i, r in enumerate(raw.itertuples(index=False)):
            folder = Path("images") / _safe(r.case_id)
            bmode = folder / "bmode.png"
            if not (dest / bmode).exists():
                save_png(store.images.get(r.bmode_sha), dest / bmode)
            paths["bmode_path"][i] = bmode.as_posix()
            if isinstance(r.elasto_sha, str):
                virtual = folder / f"virtual_{r.mode}_{_safe(r.model_version)}.png"
                if not (dest / virtual).exists():
                    caption = f"VIRTUAL {str(r.mode).upper()} elastogram - model {r.model_version}"
                    text = {"Description": f"{VIRTUAL_LABEL}. {caption}.", "usegan:virtual": "true",
                            "usegan:model_version": r.model_version, "usegan:mode": r.mode,
                            "usegan:colour_scale": r.colour_scale}  # fmt: skip
                    save_png(store.images.get(r.elasto_sha), dest / virtual, text=text)
                paths["virtual_path"][i] = virtual.as_posix()
            if isinstance(r.uncertainty_sha, str):
                sd_file = folder / f"uncertainty_{r.mode}_{_safe(r.model_version)}.npz"
                if not (dest / sd_file).exists():
                    from usegan.store.uncertainty import decode_uncertainty

                    sd = decode_uncertainty(store.images.read_bytes(r.uncertainty_sha), float(r.uncertainty_step))
                    unit = str(_json(r.colour_scale).get("unit", ""))
                    np.savez_compressed(dest / sd_file, sd=sd, unit=np.array(unit), label=np.array(VIRTUAL_LABEL))
                paths["uncertainty_path"][i] = sd_file.as_posix()
            if isinstance(r.real_elasto_sha, str):
                real = folder / f"real_{r.mode}.png"
                if not (dest / real).exists():
                    save_png(store.images.get(r.real_elasto_sha), dest / real, text={"usegan:source": r.real_source})
                paths["real_path"][i] = real.as_posix()
            rois = _json(r.rois)
            for role in ("lesion", "reference"):
                if not rois.get(role):
                    continue
                try:
                    mask = roi_to_mask(roi_from_dict(rois[role]), (int(r.height), int(r.width)))
                except (RoiError, KeyError, TypeError, ValueError):
                    continue
                path = Path("masks") / f"{_safe(r.reading_id)}_{role}.png"
                save_png(mask.astype(np.uint8) * 255, dest / path)
                paths[f"{role}_mask_path"][i] = path.as_posix()
    for column, values in paths.items():
        readings[column] = values
    _write_table(readings, dest / f"readings.{fmt}", fmt)
    _write_table(sessions, dest / f"reader_sessions.{fmt}", fmt)
    schema = {
        "export_version": EXPORT_VERSION,
        "format": fmt,
        "tables": {"readings": list(readings.columns), "reader_sessions": list(sessions.columns)},
        "documentation": "docs/export.md in the usegan repository",
        "label": VIRTUAL_LABEL,
    }
    (dest / "schema.json").write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    return dest


@dataclass(frozen=True)
class ResearchExport:
    """An opened export: its two tables and a loader for the images and masks they name."""

    root: Path
    readings: pd.DataFrame
    reader_sessions: pd.DataFrame
    schema: dict

    def image(self, relative: str) -> np.ndarray:
        """An image or mask of the export by its path column value, as a uint8 array."""
        from usegan.imageio import load_image

        if not isinstance(relative, str) or not relative:
            raise ValueError(f"no image path given ({relative!r}): was the export written without images?")
        return load_image(self.root / relative)

    def uncertainty(self, relative: str) -> np.ndarray:
        """A reading's uncertainty map by its ``uncertainty_path``: the model's per-pixel standard deviation,
        ``(H, W)`` float32 in the colour scale's unit (the B-mode's geometry)."""
        if not isinstance(relative, str) or not relative:
            raise ValueError(f"no uncertainty map ({relative!r}): the model of this reading predicts none")
        with np.load(self.root / relative) as data:
            return data["sd"]


def load_export(path: str | Path) -> ResearchExport:
    """Open a folder written by :func:`export_research` (CSV or Parquet) with the column types restored."""
    root = Path(path)
    schema_path = root / "schema.json"
    if not schema_path.is_file():
        raise FileNotFoundError(f"{root} is not a usegan research export (no schema.json)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    fmt = schema.get("format")
    if fmt not in FORMATS:
        raise ValueError(f"{schema_path} names an unknown format {fmt!r}")
    tables = {}
    for name in ("readings", "reader_sessions"):
        file = root / f"{name}.{fmt}"
        df = pd.read_parquet(file) if fmt == "parquet" else pd.read_csv(file)
        for column in ("proposed_score", "proposal_raw_score", "confirmed_score", "reader_score"):
            if column in df.columns:
                df[column] = df[column].astype("Int64")
        for column in ("read_at", "started_at"):
            if column in df.columns:
                df[column] = pd.to_datetime(df[column])
        if "blinded" in df.columns:
            df["blinded"] = df["blinded"].astype(bool)
        tables[name] = df.reindex(columns=schema["tables"][name])
    return ResearchExport(root, tables["readings"], tables["reader_sessions"], schema)


def export_zip(store, fmt: str = "parquet", *, images: bool = True) -> bytes:
    """The research export as the bytes of a zip file (for a download button): the same folder as
    :func:`export_research`, under ``usegan-research-export/``."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory(prefix="usegan-export-") as tmp:
        root = export_research(store, Path(tmp) / "usegan-research-export", fmt, images=images)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root.parent).as_posix())
        return buffer.getvalue()
