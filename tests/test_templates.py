"""usegan.services.templates: conclusion templates per organ and score, the proposal's scale, the Q-box line."""

from __future__ import annotations

import pytest

from usegan.scoring import system_for
from usegan.scoring.systems import proposal_scale
from usegan.services import templates


# --- templates and audit -----------------------------------------------------------------------------------
def test_conclusion_templates_follow_organ_and_score():
    assert "Tsukuba 4" in templates.conclusion_template("breast", 4)
    assert "Rago 5" in templates.conclusion_template("thyroid", 5)
    assert "VIRTUAL" in templates.conclusion_template("liver", 1)
    assert system_for("strain", "thyroid") == "rago"  # one owner for "which scale" (usegan.scoring)
    with pytest.raises(ValueError, match="1..5"):
        templates.conclusion_template("breast", 6)


def test_proposal_scale_and_qbox_summary_say_what_the_numbers_are():
    assert "not Tsukuba" in proposal_scale("swe_breast")
    assert proposal_scale("tsukuba") == "Tsukuba 1-5"
    line = templates.qbox_summary({"emean_kpa": 120.4, "emax_kpa": 180.0, "sd_kpa": 9.6, "eratio": 7.5})
    assert line == "Emean 120 kPa · Emax 180 kPa · SD 10 kPa · Eratio 7.50"
    assert "Eratio" not in templates.qbox_summary({"emean_kpa": 1.0, "eratio": float("nan")})
