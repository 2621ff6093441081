"""What hangs off a case: generated elastograms, the algorithm's pre-scores, real elastograms, report files.

Mixed into :class:`usegan.store.Store`; every mutation runs in ``self.transaction()`` with its audit row, after the
image it names is in the image store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from usegan.store.cases import _check_mode, _uint8_image
from usegan.store.errors import NotFoundError
from usegan.store.images import ImageStore
from usegan.store.rows import columns, insert, record
from usegan.store.uncertainty import decode_uncertainty, encode_uncertainty
from usegan.store.util import from_json, new_id, to_json
from usegan.vocab import CaseStatus


@dataclass(frozen=True)
class Generation:
    generation_id: str
    case_id: str
    mode: str  # strain / swe
    model_version: str
    checkpoint_sha256: str
    colour_scale: dict  # e.g. {"vmin": 0, "vmax": 180, "unit": "kPa"}
    elasto_sha: str  # PNG of the (H, W, 3) uint8 elastogram
    ms: float | None  # generation time
    created_at: dt.datetime
    created_by: str
    uncertainty_sha: str | None = None  # 16-bit PNG of the model's per-pixel SD (None: the model predicts none)
    uncertainty_step: float | None = None  # SD per count of that PNG, in the colour scale's unit
    images: ImageStore = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def elastogram(self) -> np.ndarray:
        return self.images.get(self.elasto_sha)

    @property
    def has_uncertainty(self) -> bool:
        return self.uncertainty_sha is not None and self.uncertainty_step is not None

    def uncertainty(self) -> np.ndarray | None:
        """The model's per-pixel standard deviation of the elastogram's strain / kPa, ``(H, W)`` float32 in the
        colour scale's unit, as stored with this generation; None for a model without an uncertainty head (and for
        generations stored before the map was kept)."""
        if self.uncertainty_sha is None or self.uncertainty_step is None:  # not self.has_uncertainty
            return None
        return decode_uncertainty(self.images.read_bytes(self.uncertainty_sha), self.uncertainty_step)


@dataclass(frozen=True)
class PreScore:
    prescore_id: str
    case_id: str
    generation_id: str | None
    algorithm_version: str | None
    score: int | None
    result: dict  # ScoreResult.to_dict(), as given
    roi: dict
    created_at: dt.datetime
    created_by: str


# Rows made before the case's last re-crop describe an earlier B-mode (usegan.store.intake): skip them.
_AFTER_RECROP = (
    "created_at >= coalesce((SELECT c.cropped_at FROM cases c WHERE c.case_id = {table}.case_id), created_at)"
)
_GEN_AFTER_RECROP = _AFTER_RECROP.format(table="generations")
_PRE_AFTER_RECROP = _AFTER_RECROP.format(table="prescores")
_GEN_COLUMNS = columns(Generation)
_PRE_COLUMNS = columns(PreScore)


class AttachmentsMixin:
    # -- generations -------------------------------------------------------------------------------------------
    def add_generation(
        self,
        case_id: str,
        elasto_rgb: np.ndarray,
        *,
        model_version: str,
        checkpoint_sha256: str,
        mode: str,
        colour_scale: dict,
        ms: float | None,
        created_by: str,
        uncertainty: np.ndarray | None = None,
    ) -> str:
        """Store a generated (virtual) elastogram, (H, W, 3) uint8, with the model that made it; returns its id.

        ``uncertainty``: the model's per-pixel SD, ``(H, W)`` float >= 0 in the colour scale's unit, when the model
        predicts one (:attr:`usegan.inference.Elastogram.uncertainty`); kept as a 16-bit PNG beside the image."""
        elasto = _uint8_image(elasto_rgb, "elasto_rgb", colour_only=True)
        _check_mode(mode)
        if not isinstance(colour_scale, dict):
            raise ValueError(f"colour_scale must be a dict (vmin, vmax, unit...), got {colour_scale!r}")
        uncertainty_sha, uncertainty_step = None, None
        if uncertainty is not None:
            if np.shape(uncertainty) != elasto.shape[:2]:
                raise ValueError(
                    f"uncertainty map {np.shape(uncertainty)} and elastogram {elasto.shape[:2]} must have the same size"
                )
            png, uncertainty_step = encode_uncertainty(uncertainty)
            uncertainty_sha = self.images.put(png)
        sha = self.images.put(elasto)
        generation_id, now = new_id("G"), self.clock()
        row = {
            "generation_id": generation_id,
            "case_id": case_id,
            "mode": mode,
            "model_version": model_version,
            "checkpoint_sha256": checkpoint_sha256,
            "colour_scale": to_json(colour_scale),
            "elasto_sha": sha,
            "ms": None if ms is None else float(ms),
            "created_at": now,
            "created_by": created_by,
            "uncertainty_sha": uncertainty_sha,
            "uncertainty_step": uncertainty_step,
        }
        with self.transaction() as cur:
            status, _ = self._require_case(cur, case_id)
            insert(cur, "generations", row)
            if status == CaseStatus.NEW:
                cur.execute("UPDATE cases SET status = 'generated', updated_at = ? WHERE case_id = ?", [now, case_id])
            self.audit(created_by, "generation.add", "case", case_id, None, row)
        return generation_id

    def _generation(self, row) -> Generation:
        return record(Generation, _GEN_COLUMNS, row, {"colour_scale": from_json}, images=self.images)

    def latest_generation(self, case_id: str, mode: str | None = None) -> Generation | None:
        """The newest generation of a case (of ``mode`` if given), or ``None``."""
        sql = f"SELECT {', '.join(_GEN_COLUMNS)} FROM generations WHERE case_id = ? AND {_GEN_AFTER_RECROP}"
        params: list = [case_id]
        if mode is not None:
            sql, params = sql + " AND mode = ?", [case_id, mode]
        row = self._cursor().execute(sql + " ORDER BY created_at DESC, generation_id LIMIT 1", params).fetchone()
        return None if row is None else self._generation(row)

    def get_generation(self, generation_id: str) -> Generation:
        row = (
            self._cursor()
            .execute(f"SELECT {', '.join(_GEN_COLUMNS)} FROM generations WHERE generation_id = ?", [generation_id])
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no generation {generation_id!r}")
        return self._generation(row)

    # -- pre-scores (the algorithm's proposal; kept apart from the clinician's review) -------------------------
    def add_prescore(
        self,
        case_id: str,
        generation_id: str | None,
        result: dict,
        roi: dict,
        *,
        created_by: str,
        headline: bool = True,
    ) -> str:
        """Store the algorithm's proposal. ``result`` is ``ScoreResult.to_dict()`` (its ``score`` and
        ``algorithm_version``/``version`` keys are indexed when present); returns the pre-score id. ``headline``
        (default) also makes it the case's ``proposed_score`` shown in the worklist and compared with the confirmed
        score; pass ``False`` for a proposal on another scale (e.g. a breast SWE class)."""
        if not isinstance(result, dict) or not isinstance(roi, dict):
            raise ValueError(f"result and roi must be dicts, got {type(result).__name__}, {type(roi).__name__}")
        score = result.get("score")
        algorithm_version = result.get("algorithm_version") or result.get("version")
        prescore_id, now = new_id("S"), self.clock()
        row = {
            "prescore_id": prescore_id,
            "case_id": case_id,
            "generation_id": generation_id,
            "algorithm_version": algorithm_version,
            "score": None if score is None else int(score),
            "result": to_json(result),
            "roi": to_json(roi),
            "created_at": now,
            "created_by": created_by,
        }
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            insert(cur, "prescores", row)
            if headline:
                cur.execute(
                    "UPDATE cases SET proposed_score = ?, updated_at = ? WHERE case_id = ?",
                    [row["score"], now, case_id],
                )
            self.audit(created_by, "prescore.add", "case", case_id, None, row)
        return prescore_id

    def latest_prescore(self, case_id: str, generation_id: str | None = None) -> PreScore | None:
        """The newest proposal of a case (computed on ``generation_id`` if given), or ``None``."""
        sql = f"SELECT {', '.join(_PRE_COLUMNS)} FROM prescores WHERE case_id = ? AND {_PRE_AFTER_RECROP}"
        params: list = [case_id]
        if generation_id is not None:
            sql, params = sql + " AND generation_id = ?", [case_id, generation_id]
        row = self._cursor().execute(sql + " ORDER BY created_at DESC, prescore_id DESC LIMIT 1", params).fetchone()
        return None if row is None else self._prescore(row)

    def get_prescore(self, prescore_id: str) -> PreScore:
        row = (
            self._cursor()
            .execute(f"SELECT {', '.join(_PRE_COLUMNS)} FROM prescores WHERE prescore_id = ?", [prescore_id])
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no pre-score {prescore_id!r}")
        return self._prescore(row)

    def _prescore(self, row) -> PreScore:
        return record(PreScore, _PRE_COLUMNS, row, {"result": from_json, "roi": from_json})

    # -- real elastograms and reports ------------------------------------------------------------------------
    def attach_real_elastogram(
        self,
        case_id: str,
        rgb: np.ndarray,
        mode: str,
        source: str,
        *,
        created_by: str,
        colour_scale: dict | None = None,
    ) -> str:
        """Attach a measured elastogram (H, W, 3) uint8 to a case (audit, fine-tuning pairs); returns its id."""
        image = _uint8_image(rgb, "rgb", colour_only=True)
        _check_mode(mode)
        sha = self.images.put(image)
        elastogram_id, now = new_id("E"), self.clock()
        row = {
            "elastogram_id": elastogram_id,
            "case_id": case_id,
            "mode": mode,
            "source": source,
            "elasto_sha": sha,
            "colour_scale": to_json(colour_scale),
            "created_at": now,
            "created_by": created_by,
        }
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            insert(cur, "real_elastograms", row)
            self.audit(
                created_by,
                "real_elastogram.attach",
                "case",
                case_id,
                None,
                {"elastogram_id": elastogram_id, "mode": mode, "source": source, "sha256": sha},
            )
        return elastogram_id

    def real_elastogram(self, elastogram_id: str) -> dict:
        """One attached real elastogram: a dict with its ids, mode, source and ``elasto_sha``."""
        df = self.query("SELECT * FROM real_elastograms WHERE elastogram_id = ?", [elastogram_id])
        if df.empty:
            raise NotFoundError(f"no real elastogram {elastogram_id!r}")
        return df.to_dict("records")[0]

    def real_elastograms(self, case_id: str) -> list[dict]:
        """Attached real elastograms, oldest first: dicts with ids, mode, source, ``elasto_sha``."""
        df = self.query("SELECT * FROM real_elastograms WHERE case_id = ? ORDER BY created_at", [case_id])
        return df.to_dict("records")

    def add_report(self, case_id: str, review_id: str | None, pdf_bytes: bytes, *, created_by: str) -> str:
        """Archive a PDF report of a case; returns its sha256 (the file name in the image store)."""
        if not isinstance(pdf_bytes, bytes | bytearray) or not bytes(pdf_bytes[:5]) == b"%PDF-":
            raise ValueError("pdf_bytes must be the bytes of a PDF file (starting with %PDF-)")
        sha = self.images.put(bytes(pdf_bytes))
        report_id, now = new_id("R"), self.clock()
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            row = {"report_id": report_id, "case_id": case_id, "review_id": review_id, "pdf_sha": sha}
            mode = cur.execute("SELECT mode FROM reviews WHERE review_id = ?", [review_id]).fetchone()
            insert(cur, "reports", row | {"created_at": now, "created_by": created_by, "mode": mode and mode[0]})
            self.audit(
                created_by,
                "report.add",
                "case",
                case_id,
                None,
                {"report_id": report_id, "review_id": review_id, "sha256": sha},
            )
        return sha

    def reports(self, case_id: str) -> list[dict]:
        """Archived reports of a case, oldest first (``report_id, review_id, pdf_sha, created_at, created_by``)."""
        return self.query("SELECT * FROM reports WHERE case_id = ? ORDER BY created_at", [case_id]).to_dict("records")
