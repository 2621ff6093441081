"""Training pairs from the store: a signed case with a real elastogram becomes a (B-mode, elastogram, mask) pair.

A case qualifies for a mode when (1) a real elastogram of that mode is attached (uploaded as a pair, or received over
DICOM) and (2) its current review is signed (``signed`` or ``amended``). The review's lesion ROI becomes the pair's
lesion mask (a case without a lesion ROI, e.g. normal tissue, gets an empty mask). The real elastogram must have
the B-mode's pixel size: pairs are used pixel-aligned, and nothing here can re-register two images.

Pairs live in the ``training_pairs`` table with their split decided **once, at creation**, from a hash of the
patient's pseudonymous id (the case id when there is none): every case of a patient falls on the same side, and no
later sync can move a validation case into training, so evaluation on the validation pairs never leaks.

Training reads a *snapshot* (:func:`export_snapshot`): plain files in the :class:`usegan.datasets.PairsDataset`
layout plus ``manifest.json``, so a background process or every ``torchrun`` rank can train without opening the
database (DuckDB lets one process own it, normally the app).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from usegan.datasets import AugmentConfig, PairsDataset
from usegan.scoring.roi import RoiError, roi_from_dict, roi_to_mask
from usegan.store.training_pairs import SPLITS, Pair
from usegan.vocab import Mode, values

VALIDATION_FRACTION = 0.2  # share of patients whose pairs are held out for evaluation
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SyncReport:
    added: list[Pair] = field(default_factory=list)  # pairs created by this sync
    updated: list[str] = field(default_factory=list)  # case ids whose review / elastogram moved on (split kept)
    skipped: dict[str, str] = field(default_factory=dict)  # case id -> why it cannot be a pair


def split_for(key: str, validation_fraction: float = VALIDATION_FRACTION) -> str:
    """``"validation"`` for a stable ``validation_fraction`` of keys (sha256-based), else ``"train"``."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    digest = hashlib.sha256(f"usegan-pair-split:{key}".encode()).digest()
    return "validation" if int.from_bytes(digest[:8], "big") / 2**64 < validation_fraction else "train"


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in values(Mode):
        raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")


def lesion_mask(rois: dict | None, shape: tuple[int, int]) -> np.ndarray:
    """The review's lesion ROI as an ``(H, W)`` bool mask; all False when there is none. Raises :class:`RoiError`
    for an ROI that cannot be used (zero area, outside the image)."""
    lesion = (rois or {}).get("lesion")
    if not lesion:
        return np.zeros(shape, dtype=bool)
    return roi_to_mask(roi_from_dict(lesion), shape)


def sync_pairs(store, *, by: str, mode: str | None = None) -> SyncReport:
    """Register every eligible case as a pair (audited); refresh the review / elastogram of existing pairs.

    Existing pairs keep their split. Cases that cannot be used are reported in ``skipped`` with the reason.
    """
    _check_mode(mode)
    rows = store.training_pairs.candidates(mode)
    existing = {(p.case_id, p.mode): p for p in list_pairs(store, mode)}
    report = SyncReport()
    for row in rows:
        key = (row["case_id"], row["mode"])
        old = existing.get(key)
        if old is not None and (old.review_id, old.elastogram_id) == (row["review_id"], row["elastogram_id"]):
            continue
        problem = _pair_problem(store, row)
        if problem:
            report.skipped[row["case_id"]] = problem
            continue
        if old is None:
            report.added.append(
                store.training_pairs.add(
                    row["case_id"],
                    row["mode"],
                    split_for(row["split_key"]),
                    row["elastogram_id"],
                    row["review_id"],
                    by=by,
                )
            )
        else:
            store.training_pairs.update(old, row["elastogram_id"], row["review_id"], by=by)
            report.updated.append(row["case_id"])
    return report


def _pair_problem(store, row: dict) -> str | None:
    """Why this eligible row cannot be a training pair, or ``None``."""
    case = store.get_case(row["case_id"])
    real = store.images.get(_elastogram_sha(store, row["elastogram_id"]))
    if real.shape[:2] != (case.height, case.width):
        return (
            f"real elastogram is {real.shape[1]}x{real.shape[0]}, the B-mode {case.width}x{case.height}: "
            "a pair must be pixel-aligned"
        )
    review = next(r for r in store.review_history(row["case_id"]) if r.review_id == row["review_id"])
    try:
        lesion_mask(review.rois, (case.height, case.width))
    except (RoiError, KeyError, TypeError, ValueError) as exc:
        return f"lesion ROI unusable: {exc}"
    return None


def _elastogram_sha(store, elastogram_id: str) -> str:
    return store.real_elastogram(elastogram_id)["elasto_sha"]


def list_pairs(store, mode: str | None = None, split: str | None = None) -> list[Pair]:
    """Registered pairs, ordered by case id."""
    _check_mode(mode)
    return store.training_pairs.list(mode, split)


def pair_counts(store) -> dict[str, dict[str, int]]:
    """``{mode: {"train": n, "validation": n}}`` for the Models page."""
    counts: dict[str, dict[str, int]] = {m: dict.fromkeys(SPLITS, 0) for m in Mode}
    for mode, split, n in store.training_pairs.counts():
        counts[mode][split] = n
    return counts


def export_snapshot(store, mode: str, dest: str | Path, splits: tuple[str, ...] = SPLITS) -> dict:
    """Write the pairs of ``mode`` to ``dest/<split>/{bmode,elasto,mask}/<case_id>.png`` + ``dest/manifest.json``.

    Returns the manifest: ``{"mode", "created_at", "pairs": [{case_id, split, organ, confirmed_score, review_id,
    elastogram_id}, ...], "counts": {split: n}}``.
    """
    _check_mode(mode)
    dest = Path(dest)
    records = []
    for pair in list_pairs(store, mode):
        if pair.split not in splits:
            continue
        case = store.get_case(pair.case_id)
        review = next(r for r in store.review_history(pair.case_id) if r.review_id == pair.review_id)
        bmode = case.bmode()
        real = store.images.get(_elastogram_sha(store, pair.elastogram_id))
        mask = lesion_mask(review.rois, bmode.shape[:2])
        for sub, image in (("bmode", bmode), ("elasto", real), ("mask", mask.astype(np.uint8) * 255)):
            folder = dest / pair.split / sub
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(image)).save(folder / f"{pair.case_id}.png")
        records.append(
            {
                "case_id": pair.case_id,
                "split": pair.split,
                "organ": case.organ,
                "confirmed_score": review.confirmed_score,
                "review_id": pair.review_id,
                "elastogram_id": pair.elastogram_id,
            }
        )
    manifest = {
        "mode": mode,
        "created_at": store.clock().isoformat(timespec="seconds"),
        "pairs": records,
        "counts": {s: sum(r["split"] == s for r in records) for s in splits},
    }
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(snapshot: str | Path) -> dict:
    path = Path(snapshot) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{snapshot}: not a pairs snapshot (no {MANIFEST})")
    return json.loads(path.read_text(encoding="utf-8"))


class StorePairsDataset(Dataset):
    """The pairs of one split of a snapshot, as a torch Dataset (items as in :mod:`usegan.datasets`:
    ``bmode (1, S, S)``, ``elasto (3, S, S)`` in [-1, 1], ``mask (1, S, S)`` in {0, 1}, ``box``, ``name`` = case id).

    ``crop_to_box`` (as the trainer does by default) crops each pair to its elastography box before letterboxing
    (:class:`usegan.training.data.BoxCropDataset`). ``records[i]`` is the manifest entry of item ``i`` (organ,
    confirmed score). Raises ``ValueError`` when the split has no pair.
    """

    def __init__(
        self,
        snapshot: str | Path,
        split: str,
        size: int,
        augment: AugmentConfig | None = None,
        crop_to_box: bool = True,
    ) -> None:
        from usegan.training.data import BoxCropDataset

        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        manifest = read_manifest(snapshot)
        if not manifest["counts"].get(split):
            raise ValueError(f"{snapshot}: no {split} pairs")
        pairs = PairsDataset(Path(snapshot) / split, size=None if crop_to_box else size, augment=augment)
        self.items = BoxCropDataset(pairs, size) if crop_to_box else pairs
        self.names = list(pairs.names)
        by_case = {r["case_id"]: r for r in manifest["pairs"]}
        self.mode = manifest["mode"]
        self.records = [by_case[name] for name in self.names]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def summary(report: SyncReport) -> dict:
    """JSON-safe view of a :class:`SyncReport`."""
    return {
        "added": [{**asdict(p), "created_at": p.created_at.isoformat()} for p in report.added],
        "updated": report.updated,
        "skipped": report.skipped,
    }
