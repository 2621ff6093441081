"""The review page's reading workflow: save, sign and amend a reading with the version the page loaded, and the
signed report served from the archive (never rebuilt).

The page keeps the ``row_version`` it loaded (:func:`loaded_version`) and passes it to every write; a write on a
stale version is refused by the store ("changed by X at T — reload") and :func:`reload_keys` names the page's
session-state keys to drop so that a reload shows the other person's work. Signing checks
:func:`usegan.reading.requirements.missing_for_signing` first (nothing is written when something is missing), then
saves the draft and signs it with the report rendered once, in the signing transaction.
"""

from __future__ import annotations

from typing import NamedTuple

from usegan.reading.requirements import missing_for_signing
from usegan.scoring.systems import confirmed_scale
from usegan.store import SignBlockedError
from usegan.ui.roi_canvas import rois_to_json

ACTIONS = ("draft", "sign", "amend")


def loaded_version(view) -> int:
    """The reading's ``row_version`` as loaded now (0 = no reading yet): what the page keeps and passes back."""
    return 0 if view.review is None else int(view.review.row_version)


def form_keys(prefix: str, case_id: str, mode: str, revision: int = 0) -> tuple[str, str]:
    """Widget keys of the confirmed score and the conclusion at form ``revision``. Each reload moves a page to the
    next revision (``<prefix>_score_<case>_<mode>_r1``, ...): a run the browser asked for before it had drawn the
    reloaded values carries its old ones, and under a new key they are dropped instead of landing on the form."""
    suffix = f"_r{revision}" if revision else ""
    return f"{prefix}_score_{case_id}_{mode}{suffix}", f"{prefix}_conclusion_{case_id}_{mode}{suffix}"


class MarksKeys(NamedTuple):
    """Session keys of a reader's marks on one case image: the marks, the revision of the canvas they are drawn on
    (a new revision draws a fresh canvas from the marks) and the prefix of that canvas's widget keys."""

    marks: str
    revision: str
    canvas: str


def marks_keys(prefix: str, case_id: str, mode: str, bmode_sha: str) -> MarksKeys:
    """:class:`MarksKeys` of the case image ``bmode_sha`` in ``mode``. The image is part of every key, so marks drawn
    before a re-crop stay with the earlier image instead of landing on the new one."""
    tag = f"{case_id}_{mode}_{bmode_sha[:12]}"
    return MarksKeys(f"{prefix}_marks_{tag}", f"{prefix}_canvas_rev_{tag}", f"{prefix}_canvas_{tag}")


def reload_keys(prefix: str, case_id: str, mode: str, revision: int, bmode_sha: str) -> list[str]:
    """Session-state keys holding a page's copy of the reading of ``case_id`` in ``mode`` at form ``revision``, its
    marks on the image ``bmode_sha`` included (dropped on reload)."""
    kept = [f"{prefix}_loaded_{case_id}_{mode}", marks_keys(prefix, case_id, mode, bmode_sha).marks]
    return [*kept, *form_keys(prefix, case_id, mode, revision)]


def missing(view, rois: dict, score: int | None, conclusion: str, proposal) -> list[str]:
    """What signing the reading shown would still lack (empty = ready); ``proposal`` is the page's ScoreResult
    for the generation shown (one that cannot score, e.g. for want of a lesion ROI, is no proposal)."""
    generation_id = None if view.generation is None else view.generation.generation_id
    scale = confirmed_scale(view.case.organ, view.mode)
    if proposal is not None:  # recorded on the generation shown when saved; "cannot score" is no proposal
        proposal_generation = generation_id if proposal.score is not None else None
    else:  # the stored proposal, when the page passes none (an amendment keeps the one shown before)
        proposal_generation = None if view.prescore is None else view.prescore.generation_id
    return missing_for_signing(rois_to_json(rois), generation_id, proposal_generation, score, conclusion, scale.name)


def renderer(store, user: str | None = None):
    """``render_pdf(review) -> bytes`` for the store's ``sign`` / ``amend``: the report of exactly that version."""
    from usegan.report import build_report, report_data_for_reading

    def render(review) -> bytes:
        return build_report(report_data_for_reading(store, review))

    return render


def save(store, view, user: str, rois: dict, score, conclusion: str, proposal, action: str, reason: str,
         expected_version: int):  # fmt: skip
    """Save the reading shown in ``view``: ``action`` ``"draft"``, ``"sign"`` (save, then sign) or ``"amend"``.

    The proposal shown is recorded first, on the generation shown (kept apart from the confirmed score). Raises
    ``SignBlockedError`` (nothing written) when signing lacks something, and the store's ``StaleReviewError`` /
    ``ReviewSignedError`` / ``ValueError``. Returns the new ``usegan.store.Review``.
    """
    from usegan.services.service import record_proposal

    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    case_id = view.case.case_id
    if action in ("sign", "amend") and (lacking := missing(view, rois, score, conclusion, proposal)):
        raise SignBlockedError(lacking, f"the {view.mode} reading of case {case_id}")
    if proposal is not None:
        prescore_id = record_proposal(store, view, proposal, rois, user)
    else:
        prescore_id = None if view.prescore is None else view.prescore.prescore_id
    generation_id = None if view.generation is None else view.generation.generation_id
    basis = {"generation_id": generation_id, "prescore_id": prescore_id}
    roi_json = rois_to_json(rois)
    if action == "amend":
        return store.amend(
            case_id, user, roi_json, score, conclusion, reason, expected_version, mode=view.mode,
            render_pdf=renderer(store, user), **basis,
        )  # fmt: skip
    review = store.save_draft(case_id, user, roi_json, score, conclusion, expected_version, mode=view.mode, **basis)
    if action == "sign":
        review = store.sign(case_id, user, review.row_version, mode=view.mode, render_pdf=renderer(store, user))
    return review


def signed_pdf(store, review, user: str) -> bytes | None:
    """The report of a signed version exactly as archived at signing (None for a draft). A version signed before
    reports were archived at signing gets its report rendered and archived now, once."""
    if review is None or not review.is_signed:
        return None
    pdf = store.signed_report(review.review_id)
    if pdf is None:
        store.add_report(review.case_id, review.review_id, renderer(store, user)(review), created_by=user)
        pdf = store.signed_report(review.review_id)
    return pdf


def changed_since(loaded, current) -> str | None:
    """``"changed by X at T — reload"`` when the stored reading moved on from the version the page loaded (another
    user, or another tab of the same user), else None. ``loaded`` / ``current``: Review or None."""
    have = 0 if loaded is None else loaded.row_version
    if current is None or current.row_version == have:
        return None
    return (
        f"This {current.mode} reading was changed by {current.updated_by} at "
        f"{current.updated_at:%Y-%m-%d %H:%M:%S} UTC ({current.status}, version {current.version}) — reload"
    )


def provenance_note(store, view) -> str:
    """The model caveat shown under the elastogram: its training data (usegan.provenance), read from the registry
    card or the checkpoint, for the generation shown."""
    from usegan.provenance import CAVEATS, provenance_for_model

    if view.generation is None:
        return ""
    found = provenance_for_model(store, view.generation.model_version, view.generation.checkpoint_sha256)
    return f"Model {view.generation.model_version}: {CAVEATS[found]}."


def picker_value(view, result, loaded) -> int | None:
    """The confirmed-score picker's value: the page's loaded reading's score, or, while it shows the stored one,
    :func:`usegan.services.service.picker_start` (the saved score, else a proposal on this reading's scale)."""
    from usegan.services.service import picker_start

    if loaded == view.review:
        return picker_start(view, result)
    return loaded and loaded.confirmed_score


def scale_name(loaded, scale) -> str:
    """The name of a loaded reading's scale: ``scale``'s (the reading's scale now) or the key it was stored with."""
    return scale.name if loaded.scale == scale.system else loaded.scale


def template_for(view, score: int | None) -> str:
    """The conclusion template for ``score`` on this reading's scale (``""`` without a score)."""
    from usegan.services.templates import reading_template

    return "" if score is None else reading_template(view.case.organ, view.mode, score)


def replaces_typed_text(current_text: str, view) -> bool:
    """True when inserting a template would overwrite text the reader typed (anything but blank or an unchanged
    template of this scale): the page then asks first."""
    text = (current_text or "").strip()
    if not text:
        return False
    scale = confirmed_scale(view.case.organ, view.mode)
    return all(text != template_for(view, s).strip() for s in scale.scores)
