"""Research audit: proposed vs confirmed scores per model version, distributions, disagreements, export."""

import plotly.express as px
import streamlit as st

from pages._common import get_store, open_review, require_role
from usegan.services import audit
from usegan.services.compare import real_comparisons
from usegan.ui import figures
from usegan.vocab import REVIEW_ROLES

AGREEMENT_COLUMNS = {
    "exact_agreement": st.column_config.NumberColumn(format="percent"),
    "within_one": st.column_config.NumberColumn(format="percent"),
    "kappa_qw": st.column_config.NumberColumn("quadratic-weighted kappa", format="%.3f"),
}

user = require_role("audit")
store = get_store()
st.title("Research audit")
table = audit.audit_table(store)
if table.empty:
    st.info("No cases yet. Reviewed and signed cases appear here.")
    st.stop()

versions = sorted(table["model_version"].dropna().unique().tolist())
chosen = st.multiselect("Model versions", versions, default=versions, key="audit_versions")
shown = table[table["model_version"].isin(chosen)] if chosen else table
done = audit.reviewed(shown)

st.subheader("Agreement per model version")
st.dataframe(audit.per_model_summary(shown), hide_index=True, width="stretch", column_config=AGREEMENT_COLUMNS)
left, right = st.columns(2)
matrix = audit.confusion_matrix(done["confirmed_score"].tolist(), done["proposed_score"].tolist())
kappa = audit.quadratic_weighted_kappa(done["confirmed_score"].tolist(), done["proposed_score"].tolist())
left.plotly_chart(
    figures.confusion_figure(
        matrix, [str(s) for s in audit.SCORES], f"Confirmed vs proposed ({len(done)} signed cases, kappa {kappa:.2f})"
    ),
    key="audit_confusion",
)
over_time = audit.agreement_over_time(shown)
if over_time.empty:
    right.info("No signed cases yet: agreement over time appears after the first signature.")
else:
    fig = px.line(
        over_time,
        x="period",
        y="exact_agreement",
        markers=True,
        hover_data=["cases"],
        title="Exact agreement per week",
        range_y=[0, 1.05],
    )
    right.plotly_chart(fig, key="audit_over_time")

st.subheader("Score distributions")
c1, c2 = st.columns(2)
scored = shown.dropna(subset=["confirmed_score"])
if scored.empty:
    st.caption("No confirmed scores yet.")
else:
    c1.plotly_chart(
        px.histogram(
            scored, x="confirmed_score", color="organ", barmode="group", nbins=5, title="Confirmed score by organ"
        ),
        key="audit_by_organ",
    )
    typed = scored.dropna(subset=["lesion_type"])
    if not typed.empty:
        c2.plotly_chart(
            px.histogram(
                typed,
                x="confirmed_score",
                color="lesion_type",
                barmode="group",
                nbins=5,
                title="Confirmed score by lesion type (samples)",
            ),
            key="audit_by_type",
        )

st.subheader("Model versions on the same cases")
by_version = audit.version_comparison(store)
if by_version.empty:
    st.caption("No case has elastograms from more than one model version yet (reopen cases after a promotion).")
else:
    st.caption(
        "Pre-scores each model version gave on the same cases: the one stored when a reviewer saw it, else the "
        "algorithm re-run on that version's elastogram with the case's review ROIs. Agreement counts only signed "
        "cases scored by every version of the mode."
    )
    st.dataframe(audit.version_agreement(by_version), hide_index=True, width="stretch", column_config=AGREEMENT_COLUMNS)
    st.dataframe(audit.version_table(by_version), hide_index=True, width="stretch")

st.subheader("Disagreements")
disagree = audit.disagreements(shown)
columns = ["case_id", "organ", "lesion_type", "model_version", "proposed_score", "confirmed_score", "reviewer"]
st.dataframe(disagree[columns], hide_index=True, width="stretch")
if not disagree.empty:
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    case_id = c1.selectbox("Open a case", disagree["case_id"].tolist(), key="audit_open_id")
    if c2.button("Open in review", key="audit_open") and user["role"] in REVIEW_ROLES:
        open_review(case_id)

st.subheader("Virtual vs real elastograms")
real = real_comparisons(store, limit=50)
if real.empty:
    st.caption("No case has a real elastogram attached.")
else:
    st.dataframe(real, hide_index=True, width="stretch")

st.subheader("Export what is shown")
c1, c2 = st.columns(2)
c1.download_button("CSV", audit.export_bytes(shown, "csv"), "usegan-audit.csv", "text/csv", key="audit_csv")
c2.download_button(
    "Parquet",
    audit.export_bytes(shown, "parquet"),
    "usegan-audit.parquet",
    "application/octet-stream",
    key="audit_parquet",
)
