"""usegan.ui.tables: the worklist's rows as shown."""

from __future__ import annotations


def test_worklist_rows_show_blank_cells_and_whole_scores():
    import pandas as pd

    from usegan.ui.tables import worklist_rows

    table = pd.DataFrame(
        {"case_id": ["C-1", "C-2"], "side": [None, "left"], "exam_at": pd.to_datetime(["2026-01-01", None]),
         "proposed_score": [4.0, float("nan")], "confirmed_score": [None, 3]}
    )  # fmt: skip
    rows = worklist_rows(table)
    assert rows["side"].tolist() == ["", "left"]
    assert rows["proposed"].tolist() == ["4", ""] and rows["confirmed"].tolist() == ["", "3"]
    assert "None" not in rows.drop(columns="exam_at").to_string() and "nan" not in rows.to_string().lower()
