"""Research statistics (usegan.research.stats) and their figures: kappa with bootstrap intervals (undefined, not
0, for n = 1), per-scale confusion matrices, readable agreement periods, integer score ticks, blinding, calibration."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from usegan.agreement import confusion_matrix, kappa_of_matrices, quadratic_weighted_kappa
from usegan.research import figures, stats


def raters(n: int, seed: int = 0, noise: int = 1):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n)
    return truth.tolist(), np.clip(truth + rng.integers(-noise, noise + 1, n), 1, 5).tolist()


def test_kappa_is_undefined_for_one_reading_and_says_why():
    for truth, predicted in (([4], [4]), ([4], [2]), ([], [])):
        estimate = stats.kappa_ci(truth, predicted)
        assert not estimate.defined and math.isnan(estimate.low)
        assert estimate.text.startswith("undefined (n = ") and "0.00" not in estimate.text
    assert "same score" in stats.kappa_ci([3, 3], [3, 3]).reason  # no variation: undefined too, not 1.0


def test_kappa_point_estimate_is_the_evaluations_kappa_and_the_interval_brackets_it():
    truth, predicted = raters(60, seed=1)
    estimate = stats.kappa_ci(truth, predicted)
    assert estimate.kappa == pytest.approx(quadratic_weighted_kappa(truth, predicted))
    assert estimate.low < estimate.kappa < estimate.high and estimate.n == 60
    assert f"{estimate.kappa:.2f} (95% CI {estimate.low:.2f} to {estimate.high:.2f}, n = 60)" == estimate.text
    big = stats.kappa_ci(*raters(600, seed=1))
    assert big.high - big.low < (estimate.high - estimate.low) / 2  # 10x the readings: interval ~3x narrower
    assert stats.kappa_ci(truth, predicted) == estimate  # seeded: the same interval on every page load


def test_batched_kappa_equals_one_matrix_at_a_time():
    pairs = [raters(30, seed=s, noise=s % 3) for s in range(8)]
    stack = np.stack([confusion_matrix(a, b) for a, b in pairs])
    assert kappa_of_matrices(stack) == pytest.approx([quadratic_weighted_kappa(a, b) for a, b in pairs])


def test_independent_raters_have_an_interval_around_zero():
    rng = np.random.default_rng(5)
    estimate = stats.kappa_ci(rng.integers(1, 6, 300).tolist(), rng.integers(1, 6, 300).tolist())
    assert estimate.low < 0 < estimate.high


def test_a_paired_kappa_difference_is_the_difference_with_a_narrower_interval_than_either_kappa():
    truth, first = raters(200, seed=2, noise=1)
    rng = np.random.default_rng(3)
    second = [p if rng.random() < 0.8 else t for t, p in zip(truth, first, strict=True)]  # a better model
    diff = stats.kappa_difference_ci(truth, first, second)
    kappa_first, kappa_second = stats.kappa_ci(truth, first), stats.kappa_ci(truth, second)
    assert diff.kappa == pytest.approx(kappa_second.kappa - kappa_first.kappa) and diff.n == 200
    assert 0 < diff.low < diff.kappa < diff.high  # detected, which two separate intervals would not show:
    assert kappa_first.high > kappa_second.low
    assert diff.high - diff.low < (kappa_first.high - kappa_first.low) / 2
    same = stats.kappa_difference_ci(truth, first, first)
    assert same.kappa == same.low == same.high == 0.0


def test_a_paired_kappa_difference_leaves_out_cases_with_a_missing_score_and_checks_lengths():
    truth, first = raters(50, seed=4)
    second = list(first)
    second[0] = None
    assert stats.kappa_difference_ci(truth, first, second).n == 49
    assert not stats.kappa_difference_ci([3], [3], [3]).defined
    with pytest.raises(ValueError, match="one score per case, got 50, 50, 49"):
        stats.kappa_difference_ci(truth, first, second[1:])
    table = pd.DataFrame({"truth": truth, "first": first, "second": second})
    some = table[table["truth"] > 1]  # a filtered readings table: its index does not start at 0
    assert stats.kappa_difference_ci(some["truth"], some["first"], some["second"]).n == len(some.dropna())


def readings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["scale", "confirmed_score", "proposed_score", "read_at", "model_version"])


def test_confusion_matrices_are_per_scale_never_pooled():
    df = readings([
        ("tsukuba", 4, 4, None, "v1"), ("tsukuba", 2, 3, None, "v1"), ("rago", 5, 5, None, "v1"),
        ("rago", 1, None, None, "v1"),
    ])  # fmt: skip
    by_scale = {c.scale: c for c in stats.confusion_by_scale(df)}
    assert set(by_scale) == {"rago", "tsukuba"}
    assert by_scale["tsukuba"].matrix.sum() == 2 and by_scale["rago"].matrix.sum() == 1
    assert by_scale["rago"].matrix[4, 4] == 1 and not by_scale["rago"].kappa.defined
    fig = figures.confusion_figure(by_scale["tsukuba"])
    assert "Tsukuba" in fig.layout.title.text and "kappa" in fig.layout.title.text


def test_agreement_over_time_labels_are_dates_not_clock_times():
    monday = dt.datetime(2026, 11, 16)
    df = readings([
        ("tsukuba", 4, 4, monday + dt.timedelta(days=1), "v1"),
        ("tsukuba", 3, 4, dt.datetime(2026, 11, 22, 23, 59, 59, 999000), "v1"),  # Sunday night: same week
        ("tsukuba", 2, 2, dt.datetime(2026, 11, 23, 0, 0, 0, 500), "v1"),  # next Monday
    ])  # fmt: skip
    over = stats.agreement_over_time(df)
    assert over["label"].tolist() == ["week of 16 Nov 2026", "week of 23 Nov 2026"]
    assert over["period"].tolist() == [dt.date(2026, 11, 16), dt.date(2026, 11, 23)]
    assert over["n"].tolist() == [2, 1] and over["exact_agreement"].tolist() == [0.5, 1.0]
    assert (over["low"] <= over["exact_agreement"]).all() and (over["high"] >= over["exact_agreement"]).all()
    fig = figures.agreement_over_time_figure(over)
    assert fig.layout.xaxis.type == "category" and list(fig.data[0].x) == over["label"].tolist()
    assert not any(":" in label for label in fig.data[0].x)
    assert stats.agreement_over_time(df, freq="M")["label"].tolist() == ["Nov 2026"]


def test_score_histograms_have_a_bar_and_a_tick_on_every_whole_score():
    df = readings([("tsukuba", 4, 4, None, "v1"), ("tsukuba", 4, 3, None, "v2"), ("rago", 1, 1, None, "v1")])
    counts = stats.score_counts(df)
    assert counts["score"].tolist() == [1, 2, 3, 4, 5] and counts["count"].tolist() == [1, 0, 0, 2, 0]
    grouped = stats.score_counts(df, by="model_version")
    assert len(grouped) == 10 and grouped[grouped["model_version"] == "v2"]["count"].tolist() == [0, 0, 0, 1, 0]
    fig = figures.score_histogram_figure(grouped, by="model_version")
    assert tuple(fig.layout.xaxis.tickvals) == (1, 2, 3, 4, 5) and len(fig.data) == 2
    assert fig.layout.yaxis.dtick == 1  # whole readings: no tick at 0.5
    many = grouped.assign(count=grouped["count"] * 37)
    assert figures.score_histogram_figure(many, by="model_version").layout.yaxis.dtick == 5  # up to 37


def test_agreement_summary_per_group_with_readable_kappa():
    truth, predicted = raters(40, seed=3)
    df = pd.DataFrame({"confirmed_score": truth + [5], "proposed_score": predicted + [5],
                       "model_version": ["v1"] * 40 + ["v2"]})  # fmt: skip
    summary = stats.agreement_summary(df, by="model_version").set_index("group")
    assert summary.loc["v1", "n"] == 40 and "95% CI" in summary.loc["v1", "kappa_text"]
    assert math.isnan(summary.loc["v2", "kappa"]) and summary.loc["v2", "kappa_text"].startswith("undefined (n = 1")
    fig = figures.kappa_figure(summary.reset_index())
    assert len(fig.data[0].x) == 1 and "undefined" in fig.layout.title.text  # v2 listed, not drawn at 0


def test_blinded_comparison_measures_how_far_the_proposal_moves_readers():
    sessions = []
    for i, (before, after, proposal) in enumerate([(2, 4, 4), (3, 3, 4), (5, 4, 3), (1, 1, 1)]):
        sessions.append(
            {
                "session_id": i,
                "blinded": True,
                "reader_score": before,
                "proposed_score": proposal,
                "confirmed_score": after,
                "seconds": 20.0 + i,
            }
        )
        sessions.append({"session_id": i, "blinded": False, "reader_score": after, "proposed_score": proposal,
                         "confirmed_score": after, "seconds": 5.0})  # fmt: skip
    df = pd.DataFrame(sessions)
    table = stats.blinded_comparison(df).set_index("phase")
    assert table.loc["blinded", "agree_with_proposal"] == 0.25 and table.loc["unblinded", "agree_with_proposal"] == 0.5
    assert table.loc["blinded", "median_seconds"] == 21.5 and table.loc["unblinded", "median_seconds"] == 5.0
    assert stats.proposal_shift(df) == {"pairs": 4, "changed": 2, "moved_to_proposal": 1, "moved_towards_proposal": 2}


def test_uncertainty_calibration_rises_with_disagreement():
    rng = np.random.default_rng(0)
    uncertainty = rng.uniform(0, 1, 400)
    truth = rng.integers(1, 6, 400)
    wrong = rng.uniform(0, 1, 400) < uncertainty  # the more uncertain, the more often the proposal is changed
    df = pd.DataFrame({"confirmed_score": truth, "proposed_score": np.where(wrong, np.where(truth > 1, truth - 1, 2),
                       truth), "lesion_uncertainty_position": uncertainty})  # fmt: skip
    table = stats.uncertainty_calibration(df, bins=4)
    assert len(table) == 4 and table["disagreement"].is_monotonic_increasing
    assert table["disagreement"].iloc[-1] - table["disagreement"].iloc[0] > 0.5
    assert stats.uncertainty_calibration(df.drop(columns="lesion_uncertainty_position")).empty
    assert len(figures.calibration_figure(table).data[0].x) == 4


def test_error_calibration_compares_the_predicted_sd_with_the_actual_error():
    rng = np.random.default_rng(1)
    sd = rng.uniform(0.02, 0.3, 800)
    calibrated = pd.DataFrame({"lesion_uncertainty_position": sd, "lesion_error_position": np.abs(rng.normal(0, sd))})
    table = stats.error_calibration(calibrated, bins=4)
    assert list(table.columns) == stats.ERROR_CALIBRATION_COLUMNS and table["n"].sum() == 800
    assert table["rms_error"].is_monotonic_increasing
    assert table["rms_over_uncertainty"].between(0.8, 1.2).all()  # errors the size the model predicted
    overconfident = calibrated.assign(lesion_error_position=calibrated["lesion_error_position"] * 3)
    assert (stats.error_calibration(overconfident)["rms_over_uncertainty"] > 2.4).all()
    correlation = stats.uncertainty_error_correlation(calibrated, n_boot=300)
    assert 0.2 < correlation.rho < 0.8 and correlation.low < correlation.rho < correlation.high
    assert correlation.n == 800 and "95% CI" in correlation.text
    unrelated = calibrated.assign(lesion_error_position=rng.permutation(calibrated["lesion_error_position"]))
    assert abs(stats.uncertainty_error_correlation(unrelated, n_boot=300).rho) < 0.1
    fig = figures.error_calibration_figure(table)
    assert len(fig.data) == 2 and len(fig.data[1].x) == 4


def test_error_calibration_is_empty_or_undefined_without_the_truth():
    no_truth = pd.DataFrame({"lesion_uncertainty_position": [0.1, 0.2], "lesion_error_position": [np.nan, np.nan]})
    assert stats.error_calibration(no_truth).empty and stats.error_calibration(pd.DataFrame()).empty
    assert stats.uncertainty_error_correlation(no_truth).text == "undefined (n = 0)"


def test_a_paired_kappa_change_pairs_by_case_name_and_leaves_out_cases_whose_truth_differs():
    truth, first = raters(60, seed=5)
    base = {f"c{i}": (t, p) for i, (t, p) in enumerate(zip(truth, first, strict=True))}
    other = {name: (t, t) for name, (t, _) in reversed(base.items())}  # reads every case right, in another order
    other["c0"] = (truth[0] % 5 + 1, truth[0] % 5 + 1)  # drawn again with another truth: left out
    other["new"] = (3, 3)  # only in one set: left out
    change = stats.paired_kappa_change(base, other)
    kept = range(1, 60)
    expected = 1.0 - quadratic_weighted_kappa([truth[i] for i in kept], [first[i] for i in kept])
    assert change.n == 59 and change.kappa == pytest.approx(expected) and change.low <= change.kappa <= change.high
