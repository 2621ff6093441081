"""The case service the review pages call: open a case, generate its virtual elastogram (cached), propose a
score for the drawn ROIs, and save the clinician's review. Ties inference -> scoring -> store together.

Generation is cached twice: the store keeps every generation (a case reopened with the same model version is not
regenerated), and :class:`GenerationCache` keeps recent results in memory keyed on ``(B-mode sha256, model
version, mode)``, so the same image in another case (a re-upload, a sample opened twice) is not run again either.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from usegan.colormaps import Colormap
from usegan.scoring import ScoreResult, cannot_score, propose
from usegan.scoring.systems import confirmed_scale, on_headline_scale, system_for
from usegan.ui.roi_canvas import rois_from_json, rois_to_json
from usegan.vocab import Mode


class GenerationCache:
    """Thread-safe LRU of generated elastograms: ``(bmode_sha, model_version, mode) -> (rgb, colour_scale, ms,
    uncertainty or None)``."""

    def __init__(self, max_items: int = 64) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items!r}")
        self.max_items = max_items
        self._items: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple, value: tuple) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


GENERATION_CACHE = GenerationCache()
DECODED_IMAGES = GenerationCache(max_items=16)  # image sha256 -> (array,): a 1024 px B-mode + elastogram = 4 MiB


def decoded_image(images, sha: str) -> np.ndarray:
    """The image store's file ``sha`` decoded (:meth:`usegan.store.images.ImageStore.get`), read-only, from a
    per-process cache: files are content-addressed and never change, and decoding a 1024 px reading copy and its
    elastogram costs tens of milliseconds on every run of the review page."""
    hit = DECODED_IMAGES.get(sha)
    if hit is None:
        array = images.get(sha)
        array.setflags(write=False)
        hit = (array,)
        DECODED_IMAGES.put(sha, hit)
    return hit[0]


@dataclass(frozen=True)
class CaseView:
    """Everything the review page shows for one case and one mode."""

    case: object  # usegan.store.Case
    bmode: np.ndarray  # (H, W) or (H, W, 3) uint8
    mode: str  # the mode being viewed
    generation: object | None  # usegan.store.Generation of this mode, newest, or None
    elasto: np.ndarray | None  # (H, W, 3) uint8 virtual elastogram of ``generation``
    prescore: object | None  # usegan.store.PreScore, newest
    review: object | None  # usegan.store.Review, current version
    real: np.ndarray | None  # (H, W, 3) uint8 attached real elastogram of this mode, newest
    real_source: str | None  # where the real one came from
    rois: dict = field(default_factory=dict)  # ROIs to start from: the review's, else the proposal's

    @property
    def caption(self) -> str:
        """The label every generated image carries: VIRTUAL, mode and model version."""
        if self.generation is None:
            return ""
        return f"VIRTUAL {self.mode.upper()} elastogram - model {self.generation.model_version}"

    @property
    def expected_version(self) -> int:
        """The review ``row_version`` to pass back on the next write (0 when there is no review yet)."""
        return 0 if self.review is None else int(self.review.row_version)


def open_case(store, case_id: str, mode: str = Mode.STRAIN) -> CaseView:
    """Load a case and its reading in ``mode``; raises ``usegan.store.NotFoundError`` for a wrong id and
    ``usegan.store.CaseWithdrawnError`` for a withdrawn one.

    The reading, the proposal and the real elastogram are those of ``mode`` only: a strain reading never shows up
    in the SWE view (and vice versa). The proposal is the newest one computed on the generation shown."""
    case = store.get_case(case_id)
    case.require_active()  # a withdrawn case stays in the archive, out of reading
    generation = store.latest_generation(case_id, mode)
    review = store.current_review(case_id, mode)
    prescore = None if generation is None else store.latest_prescore(case_id, generation.generation_id)
    real, real_source = None, None
    for item in reversed(store.real_elastograms(case_id)):
        if item["mode"] == mode:
            real, real_source = decoded_image(store.images, item["elasto_sha"]), item["source"]
            break
    rois = rois_from_json(review.rois if review is not None else (prescore.roi if prescore is not None else None))
    return CaseView(
        case=case,
        bmode=decoded_image(store.images, case.bmode_sha),
        mode=mode,
        generation=generation,
        elasto=None if generation is None else decoded_image(store.images, generation.elasto_sha),
        prescore=prescore,
        review=review,
        real=real,
        real_source=real_source,
        rois=rois,
    )


CASE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")  # the characters a case id is made of (ids may come from a URL)


def is_case_id(text: object) -> bool:
    """True when ``text`` can be a case id: only such text reaches a page title or a query."""
    return bool(CASE_ID.fullmatch(str(text)))


def open_for_review(store, case_id: str, mode: str, elastographer, user: str) -> CaseView:
    """The case in ``mode`` with its virtual elastogram, generated with ``elastographer`` on first view."""
    generate_for_case(store, case_id, elastographer, user)
    return open_case(store, case_id, mode)


def generate_for_case(store, case_id: str, elastographer, user: str, cache: GenerationCache | None = None):
    """The case's generation for the elastographer's model version and mode: the stored one if it exists, else
    from the in-memory cache, else run the model; new results are stored, with the model's per-pixel uncertainty
    when it predicts one. Returns a ``usegan.store.Generation``."""
    cache = GENERATION_CACHE if cache is None else cache
    info = elastographer.info
    existing = store.latest_generation(case_id, info.mode)
    if existing is not None and existing.model_version == info.version:
        return existing
    case = store.get_case(case_id)
    key = (case.bmode_sha, info.version, info.mode)
    hit = cache.get(key)
    if hit is None:
        result = elastographer.generate(case.bmode())
        # Checkpoints from before the uncertainty head give no ``uncertainty``: the generation then has no map.
        sd = getattr(result, "uncertainty", None)
        hit = (result.rgb, dict(result.colour_scale), float(result.ms), None if sd is None else np.asarray(sd))
        cache.put(key, hit)
    rgb, colour_scale, ms, uncertainty = hit
    generation_id = store.add_generation(
        case_id, rgb, model_version=info.version, checkpoint_sha256=info.sha256, mode=info.mode,
        colour_scale=colour_scale, ms=ms, created_by=user, uncertainty=uncertainty,
    )  # fmt: skip
    return store.get_generation(generation_id)


def score_rois(elasto: np.ndarray, mode: str, colour_scale: dict | None, rois: dict, organ: str) -> ScoreResult:
    """The algorithm's proposal for the drawn ROIs (``{"lesion": roi, "reference": roi}``), never raising for
    an unusable combination: a missing lesion ROI or an organ the mode cannot score gives ``score=None``."""
    try:
        system = system_for(mode, organ)
    except ValueError as exc:
        return cannot_score(f"{mode}_{organ}", str(exc))
    if "lesion" not in rois:
        return cannot_score(system, "draw a lesion ROI (yellow) on the image")
    elasto, lesion, reference = scoring_window(np.asarray(elasto), rois["lesion"], rois.get("reference"))
    return propose(elasto, mode, lesion, reference, organ=organ, colormap=Colormap.from_scale(mode, colour_scale))


def scoring_window(elasto: np.ndarray, lesion, reference=None) -> tuple[np.ndarray, object, object]:
    """``(elasto, lesion, reference)`` cut to the part of the image the proposal reads: the ROIs and a margin
    wider than the ring the scorer looks at around the lesion (:func:`usegan.scoring.features.ring_around`).

    Every figure of the proposal comes from the ROI masks and the pixels within the ring's width of the lesion, so
    the proposal on the window equals the one on the whole image, figure for figure (tests/test_scoring_window.py
    checks it), while the scorer's distance transforms run on a few hundred pixels instead of a whole 1024 px
    reading copy. An ROI that is empty or outside the image, or a mask array, leaves the whole image (the scorer's
    refusal then names the image's own coordinates).
    """
    from usegan.scoring.thresholds import DEFAULT_THRESHOLDS as T
    from usegan.services.windows import around, bounds

    rois = {"lesion": lesion} | ({} if reference is None else {"reference": reference})
    box = bounds(lesion)
    if box is None:
        return elasto, lesion, reference
    # The ring is at most ring_width x the lesion's equivalent radius, and the lesion (its rasterised mask, at most
    # a pixel wider than its box) has at most its box's area.
    w, h = max(0.0, box[2] - box[0]) + 2, max(0.0, box[3] - box[1]) + 2
    ring = max(float(T.min_ring_width_px), T.ring_width * float(np.sqrt(w * h / np.pi)))
    window = around(rois, elasto.shape[:2], lesion_margin=0.0, pad=int(np.ceil(ring)) + 2)
    if window is None:
        return elasto, lesion, reference
    moved = window.rois(rois)
    return window.crop(elasto), moved["lesion"], moved.get("reference")


def picker_start(view: CaseView, result: ScoreResult) -> int | None:
    """The confirmed-score picker's starting value: the saved reading's score, else the proposal only when it is a
    number on this reading's confirmed scale (never a ratio class, never another mode's scale), else nothing."""
    if view.review is not None and view.review.confirmed_score:
        return int(view.review.confirmed_score)
    if result.score is not None and result.system == confirmed_scale(view.case.organ, view.mode).system:
        return int(result.score)
    return None


def record_proposal(store, view: CaseView, result: ScoreResult, rois: dict, user: str) -> str:
    """Store the proposal the reader saw, computed on the generation shown, unless it equals the newest one stored
    for that generation; returns the id of the stored proposal (new or equal)."""
    payload, roi_json = result.to_dict(), rois_to_json(rois)
    latest = view.prescore
    if latest is not None and latest.result == payload and latest.roi == roi_json:
        return latest.prescore_id
    generation_id = None if view.generation is None else view.generation.generation_id
    headline = result.system == confirmed_scale(view.case.organ, view.mode).system and on_headline_scale(
        result.system, view.case.organ
    )
    return store.add_prescore(view.case.case_id, generation_id, payload, roi_json, created_by=user, headline=headline)


def save_review(
    store,
    view: CaseView,
    user: str,
    rois: dict,
    score: int | None,
    conclusion: str,
    proposal: ScoreResult | None = None,
    action: str = "draft",
    reason: str = "",
    expected_version: int | None = None,
):
    """Save the reading of ``view`` (its case, mode and generation): see :func:`usegan.services.signing.save`."""
    from usegan.services.signing import save

    loaded = view.expected_version if expected_version is None else expected_version
    return save(store, view, user, rois, score, conclusion, proposal, action, reason, loaded)
