"""Worklist: cases with status, organ, dates, reviewer and scores; filters, counts, open a case.

Files arriving in the DICOM spool are imported by the app process's background worker (usegan.background), not by
this page; the fragment below re-reads the list every 15 s, and the case picker is part of it, so new cases can be
opened without reloading. Admins also see the quarantine.
"""

import datetime as dt

import streamlit as st

from pages._common import get_store, open_review, plain, require_role, show_error
from usegan.background import ensure_worker, worker_status
from usegan.services.dicom import quarantine_table, requeue_file
from usegan.services.templates import ORGANS
from usegan.settings import get_settings
from usegan.store.worklist import STATUSES
from usegan.ui.tables import worklist_rows
from usegan.vocab import Role

user = require_role("worklist")
store = get_store()
ensure_worker(get_settings(), store)  # idempotent: already running in the served app (usegan serve / make run)
st.title("Worklist")

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1.4, 2, 1])
    statuses = c1.multiselect("Status", STATUSES, key="worklist_status", placeholder="any status")
    organ = c2.selectbox("Organ", ["any", *ORGANS], key="worklist_organ")
    dates = c3.date_input("Exam dates", value=(), key="worklist_dates", max_value=dt.date.today())
    search = c4.text_input("Search (case id, patient id, notes)", key="worklist_search")
    mine = c5.toggle("Mine only", key="worklist_mine")

filters = {
    "status": statuses or None,
    "organ": None if organ == "any" else organ,
    "date_from": dates[0] if len(dates) >= 1 else None,
    "date_to": dates[1] if len(dates) == 2 else None,
    "reviewer": user["username"] if mine else None,
    "search": search.strip() or None,
}


def _requeue() -> None:
    # A callback: it runs before the fragment, so the ingest at the top of that same run imports the file.
    name = st.session_state.get("worklist_quarantine_file")
    try:
        requeue_file(name, get_settings())
    except (ValueError, OSError) as exc:
        st.session_state["worklist_requeue_error"] = (name, exc)
    else:
        st.session_state["worklist_flash"] = f"{name} was put back in the spool and run through the import again."


def quarantine_panel() -> None:
    """Admins: spool files that could not be imported, with the reason, and a way to put one back in the spool."""
    if failed := st.session_state.pop("worklist_requeue_error", None):
        show_error(f"Could not re-queue {failed[0]}", failed[1], "Reload the page: it may have been moved already.")
    table = quarantine_table(get_settings())
    with st.expander(f"DICOM quarantine: {len(table)} file(s)", expanded=False):
        if table.empty:
            st.caption("No quarantined files: every received DICOM file was imported.")
            return
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={"quarantined_at": st.column_config.DatetimeColumn("quarantined (UTC)")},
        )
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.selectbox("File to re-queue (after fixing the cause)", table["file"], key="worklist_quarantine_file")
        c2.button("Re-queue", key="worklist_requeue", disabled=name is None, on_click=_requeue)


@st.fragment(run_every="15s")
def live_worklist() -> None:
    """Counts, the filtered list and the case picker, re-read every 15 s.

    The picker lives inside the fragment so that cases the background worker imported can be opened at once.
    """
    worker = worker_status(get_settings())
    if worker is not None and worker.last_error:  # the list stays usable; new scanner images wait in the spool
        st.warning(f"DICOM spool import: {plain(worker.last_error)}. New scanner images will appear once it works.")
    counts = store.counts()
    cols = st.columns(len(STATUSES) + 1)
    for col, key in zip(cols, ["total", *STATUSES], strict=True):
        col.metric(key.capitalize(), counts[key])
    table = store.worklist(**filters, limit=200)
    case_ids = table["case_id"].tolist()
    st.session_state["worklist_case_ids"] = case_ids  # the review page's previous / next follow this order
    # A new key after each open: the row stays unselected when the reader comes back to the list.
    table_key = f"worklist_table_{st.session_state.get('worklist_opened', 0)}"
    event = st.dataframe(
        worklist_rows(table),
        hide_index=True,
        width="stretch",
        column_config={"exam_at": st.column_config.DatetimeColumn("exam", format="YYYY-MM-DD HH:mm")},
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
    )
    st.caption(f"{store.count_cases(**filters)} matching case(s); newest 200 shown. Click a row to open the case.")
    if rows := event.selection.rows:
        st.session_state["worklist_opened"] = st.session_state.get("worklist_opened", 0) + 1
        open_review(case_ids[rows[0]])
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox("Open case by id", case_ids, key="worklist_open_id", placeholder="choose a case", index=None)
    if c2.button("Open", type="primary", disabled=chosen is None, key="worklist_open"):
        open_review(chosen)
    if not case_ids:
        st.info("No cases match. Add one on the **New case** page (upload or a bundled sample).")
    if msg := st.session_state.pop("worklist_flash", None):
        st.success(msg)
    if user["role"] == Role.ADMIN:
        quarantine_panel()


live_worklist()
