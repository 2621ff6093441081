"""usegan.services.audit: agreement figures (quadratic-weighted kappa, confusion matrix)."""

from __future__ import annotations

import math

import pytest

from usegan.services import audit


def test_quadratic_weighted_kappa_matches_a_hand_computation():
    assert audit.quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    # Two raters, 2 cases: (1, 2) and (2, 1). O = [[0,1],[1,0]], E = [[.5,.5],[.5,.5]] over classes 1..5:
    # sum W*O = 2 * 1/16, sum W*E = 2 * 0.5/16 -> kappa = 1 - 2 = -1.
    assert audit.quadratic_weighted_kappa([1, 2], [2, 1]) == pytest.approx(-1.0)
    assert math.isnan(audit.quadratic_weighted_kappa([], []))
    matrix = audit.confusion_matrix([1, 4, None], [2, 4, 3])
    assert matrix[0, 1] == 1 and matrix[3, 3] == 1 and matrix.sum() == 2
