"""Plotly figures of the research statistics (:mod:`usegan.research.stats`): the audit page and the notebook draw
the same figures from the same functions.

Scores are integers, so every score axis has ticks at 1, 2, 3, 4, 5 only; time axes are categories labelled with
dates (``"week of 16 Nov 2026"``), never clock times.
"""

from __future__ import annotations

import plotly.graph_objects as go

from usegan.agreement import SCORES
from usegan.research.stats import ScaleConfusion
from usegan.scoring.systems import SYSTEMS

SCORE_AXIS = {"tickmode": "array", "tickvals": list(SCORES), "ticktext": [str(s) for s in SCORES], "dtick": 1}


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 50, "b": 50},
        title={"text": title, "x": 0, "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.25, "yanchor": "top", "x": 0, "xanchor": "left"},
    )
    return fig


def confusion_figure(confusion: ScaleConfusion) -> go.Figure:
    """Heat map of one scale's confusion matrix (rows = confirmed, columns = proposed) titled with its kappa."""
    labels = [str(s) for s in SCORES]
    matrix = confusion.matrix
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix, texttemplate="%{text}",
                               showscale=False))  # fmt: skip
    scale = SYSTEMS.get(str(confusion.scale))
    name = scale.short_name if scale else confusion.scale
    _layout(fig, f"{name}: confirmed vs proposed<br><sup>kappa {confusion.kappa.text}</sup>")
    fig.update_layout(
        xaxis={"title": "proposed (algorithm)", "type": "category"},
        yaxis={"title": "confirmed (clinician)", "type": "category", "autorange": "reversed"},
    )
    return fig


def kappa_figure(summary, title: str = "Quadratic-weighted kappa, 95% bootstrap interval") -> go.Figure:
    """Forest plot of :func:`usegan.research.stats.agreement_summary`: one point and interval per group; groups
    whose kappa is undefined are listed as such instead of being drawn at 0."""
    defined = summary.dropna(subset=["kappa"])
    fig = go.Figure(
        go.Scatter(
            x=defined["kappa"],
            y=[f"{g} (n = {n})" for g, n in zip(defined["group"], defined["n"], strict=True)],
            mode="markers",
            marker={"size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (defined["kappa_high"] - defined["kappa"]).fillna(0),
                "arrayminus": (defined["kappa"] - defined["kappa_low"]).fillna(0),
            },
            hovertext=defined["kappa_text"],
        )
    )
    undefined = summary[summary["kappa"].isna()]
    if len(undefined):
        title += "<br><sup>undefined: " + "; ".join(
            f"{g}: {t}" for g, t in zip(undefined["group"], undefined["kappa_text"], strict=True)
        )
        title += "</sup>"  # fmt: skip
    _layout(fig, title, height=120 + 40 * max(1, len(defined)))
    fig.update_layout(xaxis={"title": "kappa (1 = perfect, 0 = chance)", "range": [-1.05, 1.05]},
                      yaxis={"type": "category"})  # fmt: skip
    return fig


def agreement_over_time_figure(over_time, title: str = "Exact agreement per week") -> go.Figure:
    """Exact agreement per period with its Wilson interval; the x axis is the period's date label."""
    fig = go.Figure(
        go.Scatter(
            x=list(over_time["label"]),
            y=over_time["exact_agreement"],
            mode="lines+markers",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": over_time["high"] - over_time["exact_agreement"],
                "arrayminus": over_time["exact_agreement"] - over_time["low"],
            },
            text=[f"n = {n}" for n in over_time["n"]],
            hovertemplate="%{x}: %{y:.0%} (%{text})<extra></extra>",
        )
    )
    _layout(fig, title)
    fig.update_layout(
        xaxis={"type": "category", "title": None},
        yaxis={"title": "proposal = confirmed score", "range": [0, 1.05], "tickformat": ".0%"},
    )
    return fig


def score_histogram_figure(counts, by: str | None = None, title: str = "Confirmed scores") -> go.Figure:
    """Bars of :func:`usegan.research.stats.score_counts`: one bar per whole score (grouped by ``by``)."""
    fig = go.Figure()
    if by is None:
        fig.add_bar(x=counts["score"], y=counts["count"], name="readings")
    else:
        for name, group in counts.groupby(by, sort=True):
            fig.add_bar(x=group["score"], y=group["count"], name=str(name))
    _layout(fig, title, height=360 if by is not None else 320)
    most = int(counts["count"].max()) if len(counts) else 0
    fig.update_layout(
        barmode="group",
        margin={"b": 90 if by is not None else 50},
        xaxis={"title": "score", "range": [0.5, 5.5], **SCORE_AXIS},
        # Counts are whole numbers: ticks every 1, 2, 5, ... readings, never at 0.5.
        yaxis={"title": "readings", "rangemode": "tozero", "tickformat": "d", "dtick": _count_step(most)},
    )
    return fig


def _count_step(most: int) -> int:
    """A whole tick step that gives at most ~8 ticks up to ``most``."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if most / step <= 8:
            return step
    return 1000 * (most // 8000 + 1)


def calibration_figure(calibration, title: str = "Model uncertainty vs clinician disagreement") -> go.Figure:
    """Disagreement rate per uncertainty bin (:func:`usegan.research.stats.uncertainty_calibration`)."""
    fig = go.Figure(
        go.Scatter(
            x=calibration["mean_uncertainty"],
            y=calibration["disagreement"],
            mode="lines+markers",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": calibration["high"] - calibration["disagreement"],
                "arrayminus": calibration["disagreement"] - calibration["low"],
            },
            text=[f"n = {n}" for n in calibration["n"]],
        )
    )
    _layout(fig, title)
    fig.update_layout(
        xaxis={"title": "mean predicted SD in the lesion ROI (fraction of the colour scale)"},
        yaxis={"title": "confirmed != proposed", "range": [0, 1.05], "tickformat": ".0%"},
    )
    return fig


def error_calibration_figure(calibration, title: str = "Predicted uncertainty vs actual error") -> go.Figure:
    """RMS error of the virtual elastogram in the lesion (against the real one) per bin of predicted SD
    (:func:`usegan.research.stats.error_calibration`), with the line a calibrated model follows (error = SD)."""
    top = float(max(calibration["mean_uncertainty"].max(), calibration["rms_error"].max(), 1e-6)) * 1.1
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="calibrated (RMS error = SD)",
                    line={"dash": "dash", "color": "#888888"})  # fmt: skip
    fig.add_scatter(
        x=calibration["mean_uncertainty"], y=calibration["rms_error"], mode="lines+markers", name="readings",
        text=[f"n = {n}" for n in calibration["n"]],
    )  # fmt: skip
    _layout(fig, title)
    fig.update_layout(
        xaxis={"title": "mean predicted SD in the lesion (fraction of the colour scale)", "range": [0, top]},
        yaxis={"title": "RMS error virtual vs real (same unit)", "range": [0, top]},
    )
    return fig
