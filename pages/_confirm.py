"""The review page's confirmed-score panel: the clinician's score on the reading's scale, the conclusion (with
templates), save / sign / amend on the version the page loaded, and the signed PDF. Kept apart from the algorithm's
proposal, which the page renders in its own column."""

import streamlit as st

from pages import _reading as reading_ui
from pages._common import assign_widget_value, clicked, keyed_widget, show_error
from usegan.scoring import ScoreResult
from usegan.scoring.systems import confirmed_scale
from usegan.services import service, signing
from usegan.store import SignBlockedError, StaleReviewError, StoreError
from usegan.store.limits import MAX_CONCLUSION, MAX_REASON
from usegan.vocab import Mode


def _insert_template(score_key: str, conclusion_key: str, view, force: bool = False) -> None:
    """Put the template of the chosen score in the conclusion; typed text is replaced only after asking."""
    st.session_state.pop("review_template_ask", None)
    if (chosen := st.session_state.get(score_key)) is None:
        return
    if not force and signing.replaces_typed_text(st.session_state.get(conclusion_key, ""), view):
        st.session_state["review_template_ask"] = True
        return
    assign_widget_value(conclusion_key, signing.template_for(view, chosen))


def _form_revision(case_id: str, mode: str) -> int:
    return st.session_state.get(f"review_form_rev_{case_id}_{mode}", 0)


def _reload(case, mode: str) -> None:
    """Drop this page's copy of the reading, so the next run shows what is stored now, on a new form revision."""
    case_id = case.case_id
    revision = _form_revision(case_id, mode)
    for key in signing.reload_keys("review", case_id, mode, revision, case.bmode_sha):
        st.session_state.pop(key, None)
    st.session_state[f"review_form_rev_{case_id}_{mode}"] = revision + 1
    canvas = signing.marks_keys("review", case_id, mode, case.bmode_sha).revision  # a fresh canvas from the stored ROIs
    st.session_state[canvas] = st.session_state.get(canvas, 0) + 1


def confirmed_panel(store, view: service.CaseView, mode: str, rois: dict, result: ScoreResult, user: dict) -> bool:
    """The clinician's confirmed score, conclusion, save / sign / amend and the signed PDF; True when signed."""
    case, case_id = view.case, view.case.case_id
    st.subheader("Clinician's confirmed score")
    # The page works on the version it loaded (kept per case and mode); every write passes it back, so a save or
    # sign over someone else's newer version - another user, or this user's other tab - is refused, never silent.
    loaded_key = f"review_loaded_{case_id}_{mode}"
    if loaded_key not in st.session_state:
        st.session_state[loaded_key] = view.review
    loaded = st.session_state[loaded_key]
    signed = loaded is not None and loaded.is_signed
    scale = confirmed_scale(case.organ, mode)
    score_key, conclusion_key = signing.form_keys("review", case_id, mode, _form_revision(case_id, mode))
    start = signing.picker_value(view, result, loaded)
    if mode == Mode.STRAIN:  # Tsukuba / Rago pictograms: strain scales only (an SWE reading has its own scale)
        reading_ui.score_pictograms(case.organ)
    if score_key not in st.session_state:  # set through the state, not `index=`: a keyed radio keeps what the
        assign_widget_value(score_key, start if start in scale.scores else None)  # browser shows; Reload resets it
    score = keyed_widget(st.radio, f"Confirmed score ({scale.name})", list(scale.scores), index=None, horizontal=True,
                         key=score_key)  # fmt: skip
    st.caption(scale.wording.get(score, "choose a score").capitalize())
    if conclusion_key not in st.session_state:
        assign_widget_value(conclusion_key, loaded.conclusion if loaded else "")
    # A callback, not `if st.button(...)`: it runs before the script, so the text area is built with the template
    # in this very run; writing the key after a click and calling st.rerun() could be overwritten by the
    # browser's stale "" when another rerun request overtook it under load. The score is read when clicked.
    st.button(
        "Insert template for this score",
        key="review_template",
        disabled=score is None,
        on_click=_insert_template,
        args=(score_key, conclusion_key, view),
    )
    if st.session_state.get("review_template_ask"):
        with st.container(border=True):
            st.warning("Replace the conclusion you typed with the template for this score?")
            ask = st.columns(2)
            ask[0].button("Replace my text", key="review_template_replace", on_click=_insert_template,
                          args=(score_key, conclusion_key, view, True))  # fmt: skip
            ask[1].button("Keep my text", key="review_template_keep",
                          on_click=lambda: st.session_state.pop("review_template_ask", None))  # fmt: skip
    conclusion = keyed_widget(st.text_area, "Conclusion", key=conclusion_key, height=140, max_chars=MAX_CONCLUSION)
    reason = (
        st.text_input("Reason for the amendment", key="review_amend_reason", max_chars=MAX_REASON) if signed else ""
    )
    # After a refused Sign the refusal stays, listing what is still missing, until nothing is: a rerun the reader
    # did not ask for (the canvas reporting its first drawing, a mode switch) must not wipe it.
    refused_key = f"review_sign_refused_{case_id}_{mode}_{case.bmode_sha[:12]}"  # a refusal on this image only
    lacking = [] if signed else signing.missing(view, rois, score, conclusion, result)
    if not lacking:
        st.session_state.pop(refused_key, None)
    refusal = st.empty()
    if lacking:
        if st.session_state.get(refused_key):
            refusal.error("Not signed: missing " + "; ".join(lacking) + ".")
        else:
            refusal.caption("To sign, still needed: " + "; ".join(lacking) + ".")
    buttons = st.columns(3)
    action = None
    expected = 0 if loaded is None else loaded.row_version
    shown = (case_id, mode, case.bmode_sha, expected)  # a click counts for the reading it was made on only
    if not signed:
        if clicked(buttons[0], "Save draft", key="review_save", page="review", target=shown):
            action = "draft"
        if clicked(buttons[1], "Sign", type="primary", key="review_sign", page="review", target=shown):
            action = "sign"
    elif clicked(buttons[0], "Amend", type="primary", key="review_amend", page="review", target=shown):
        action = "amend"
    if action:
        try:
            saved = service.save_review(
                store, view, user["username"], rois, score, conclusion, result, action, reason, expected
            )
        except SignBlockedError as exc:
            st.session_state[refused_key] = True
            refusal.error("Not signed: missing " + "; ".join(exc.missing) + ".")
        except StaleReviewError as exc:
            st.error(f"Not saved: {exc}")
        except (StoreError, ValueError) as exc:
            show_error("Not saved", exc, "Reload the case to see the latest version, then try again.")
        else:
            st.session_state[loaded_key] = saved
            st.session_state["review_flash"] = f"Review {saved.status} (version {saved.version}) by {saved.reviewer}."
            st.rerun()
    if notice := signing.changed_since(loaded, view.review):
        st.warning(notice)
        st.button("Reload", key="review_reload", on_click=_reload, args=(case, mode))
    if msg := st.session_state.pop("review_flash", None):
        st.success(msg)
    if loaded is not None:
        st.caption(
            f"{mode.upper()} reading: version {loaded.version}, {loaded.status}, by {loaded.reviewer}"
            + (f", signed {loaded.signed_at:%Y-%m-%d %H:%M}" if loaded.signed_at else "")
            + f" · scale {signing.scale_name(loaded, scale)}"
        )
    if signed:
        try:
            pdf = signing.signed_pdf(store, loaded, user["username"])  # as archived at signing, byte for byte
        except Exception as exc:
            show_error("The PDF report could not be loaded", exc, "The signed reading is saved; try again later.")
        else:
            buttons[2].download_button(
                "PDF report",
                pdf,
                file_name=f"{case.case_id}-{mode}-v{loaded.version}.pdf",
                mime="application/pdf",
                key="review_pdf",
                type="secondary",
            )
    return signed
