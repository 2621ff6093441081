"""Plotly figures for the review and audit pages: colour distributions, colour bars with units, audit charts.

The numbers are computed first (:func:`distribution`, testable on their own), then drawn. Strain maps are split
into the three colour classes the scores use (docs/domain.md section 2; thresholds from
:class:`usegan.scoring.Thresholds`): hard (blue, strain < 1/3), intermediate (green) and soft (red, > 2/3).
SWE maps become a kPa histogram. Both are shown for the lesion ROI and for the whole colour box.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from usegan.colormaps import Colormap, coloured_mask
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS
from usegan.vocab import Mode

CLASS_COLOURS = {"hard": "#1f3fff", "intermediate": "#1fbf3f", "soft": "#e03020"}
REGION_NAMES = {"roi": "lesion ROI", "box": "whole colour box"}


@dataclass(frozen=True)
class Distribution:
    """Colour distribution of one elastogram, for the ROI and the whole box."""

    mode: str  # "strain" or "swe"
    unit: str  # "relative strain" or "kPa"
    classes: tuple[str, ...]  # strain: ("hard", "intermediate", "soft"); swe: bin labels "0-10", ...
    roi: tuple[float, ...] | None  # fraction of the ROI's known pixels per class (sums to 1), None without ROI
    box: tuple[float, ...]  # the same over every coloured pixel of the elastogram
    roi_pixels: int  # known pixels in the ROI
    box_pixels: int  # known pixels in the box


class Inverted:
    """An elastogram read back through its colour map, with what the review page derives from it alone.

    ``scalar`` (strain / kPa, NaN off the map), ``distance`` (to the nearest map colour) and ``coloured`` (the
    colour box, :func:`usegan.colormaps.coloured_mask`) are ``(H, W)`` and read-only; :meth:`derived` keeps
    further per-image products (the stiff map, the colour chart of the whole box, the quality map) so a new ROI
    recomputes only what depends on the ROI."""

    def __init__(self, scalar: np.ndarray, distance: np.ndarray, coloured: np.ndarray) -> None:
        self.scalar, self.distance, self.coloured = scalar, distance, coloured
        self._derived: dict = {}
        self._lock = threading.Lock()

    def derived(self, name, make):
        """``make()``, computed once per image and ``name`` (a hashable key naming everything it depends on)."""
        with self._lock:
            if name in self._derived:
                return self._derived[name]
        value = make()
        with self._lock:
            return self._derived.setdefault(name, value)


_INVERTED: OrderedDict[tuple, Inverted] = OrderedDict()
_INVERTED_LOCK = threading.Lock()
INVERTED_MAX = 4  # elastograms kept (a 1024 px one: ~20 MiB with what is derived from it)


def inverted(elasto_rgb: np.ndarray, mode: str, colour_scale: dict | None) -> Inverted:
    """An elastogram ``(H, W, 3)`` uint8 read back through the colour map of ``mode`` / ``colour_scale``
    (:meth:`usegan.colormaps.Colormap.invert`), as an :class:`Inverted`.

    Cached on the image's content and colour map: the review page reads the same elastogram for the reading tools
    and the colour chart, and again on every ROI change, and on a 1024 px reading copy each reading costs ~50 ms.
    """
    rgb = np.ascontiguousarray(elasto_rgb)
    cmap = Colormap.from_scale(mode, colour_scale)
    key = (hashlib.blake2b(rgb.data, digest_size=16).digest(), rgb.shape, str(rgb.dtype), cmap.mode, cmap.vmin,
           cmap.vmax)  # fmt: skip
    with _INVERTED_LOCK:
        if key in _INVERTED:
            _INVERTED.move_to_end(key)
            return _INVERTED[key]
    scalar, distance = cmap.invert(rgb)
    found = Inverted(scalar, distance, coloured_mask(rgb))
    for array in (found.scalar, found.distance, found.coloured):
        array.setflags(write=False)
    with _INVERTED_LOCK:
        found = _INVERTED.setdefault(key, found)
        _INVERTED.move_to_end(key)
        while len(_INVERTED) > INVERTED_MAX:
            _INVERTED.popitem(last=False)
    return found


def _fractions(values: np.ndarray, edges: np.ndarray) -> tuple[tuple[float, ...], int]:
    known = values[np.isfinite(values)]
    if known.size == 0:
        return tuple(0.0 for _ in range(len(edges) - 1)), 0
    counts, _ = np.histogram(np.clip(known, edges[0], edges[-1]), bins=edges)
    return tuple(float(c) / known.size for c in counts), int(known.size)


def distribution(
    elasto_rgb: np.ndarray,
    mode: str,
    colour_scale: dict | None = None,
    roi_mask: np.ndarray | None = None,
    bin_kpa: float = 10.0,
) -> Distribution:
    """Colour classes (strain) or a kPa histogram (SWE) of ``elasto_rgb`` (H, W, 3) uint8.

    ``roi_mask`` (H, W) bool or None. Pixels off the colour map (gray B-mode, text) are left out.
    """
    cmap = Colormap.from_scale(mode, colour_scale)
    image = inverted(elasto_rgb, mode, colour_scale)
    values = image.derived("box_values", lambda: np.where(image.coloured, image.scalar, np.nan))
    if mode == Mode.STRAIN:
        t = DEFAULT_THRESHOLDS
        edges = np.array([cmap.vmin, t.hard_strain, t.soft_strain, cmap.vmax + 1e-6])
        classes: tuple[str, ...] = ("hard", "intermediate", "soft")
    else:
        edges = np.arange(cmap.vmin, cmap.vmax + bin_kpa, bin_kpa)
        edges[-1] = max(edges[-1], cmap.vmax) + 1e-6
        classes = tuple(f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], np.round(edges[1:]), strict=True))
    box, box_pixels = image.derived(("box", tuple(edges.tolist())), lambda: _fractions(values, edges))
    roi, roi_pixels = None, 0
    if roi_mask is not None:
        mask = np.asarray(roi_mask, dtype=bool)
        if mask.shape != values.shape:
            raise ValueError(f"ROI mask shape {mask.shape} does not match the elastogram's {values.shape}")
        roi, roi_pixels = _fractions(values[mask], edges)
    return Distribution(mode, cmap.unit, classes, roi, box, roi_pixels, box_pixels)


def distribution_figure(dist: Distribution, height: int = 300) -> go.Figure:
    """Grouped bars: percentage of pixels per class (strain) or per kPa bin (SWE), ROI vs whole box."""
    fig = go.Figure()
    regions = [("box", dist.box, dist.box_pixels)]
    if dist.roi is not None:
        regions.insert(0, ("roi", dist.roi, dist.roi_pixels))
    for key, fractions, pixels in regions:
        colours = [CLASS_COLOURS.get(c, "#7f7f7f") for c in dist.classes]
        fig.add_bar(
            name=f"{REGION_NAMES[key]} ({pixels} px)",
            x=list(dist.classes),
            y=[100 * f for f in fractions],
            marker={"color": colours if key == "roi" else None, "opacity": 1.0 if key == "roi" else 0.45},
            text=[f"{100 * f:.0f}%" for f in fractions],
            textposition="outside",
        )
    xtitle = "strain class (hard = blue, soft = red)" if dist.mode == Mode.STRAIN else "Young's modulus, kPa"
    fig.update_layout(
        barmode="group",
        height=height,
        margin={"l": 40, "r": 10, "t": 60, "b": 40},
        yaxis={"title": "% of pixels", "range": [0, 110]},
        xaxis={"title": xtitle},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        title={"text": "Colour distribution", "x": 0, "font": {"size": 14}},
    )
    return fig


def colour_bar_figure(mode: str, colour_scale: dict | None = None, height: int = 90) -> go.Figure:
    """A horizontal colour bar with the scale's unit and the meaning of each end (hard/soft or soft/stiff)."""
    cmap = Colormap.from_scale(mode, colour_scale)
    lut = cmap.lut
    positions = np.linspace(0, 1, 11)
    colorscale = [[float(p), f"rgb{tuple(int(v) for v in lut[round(p * 255)])}"] for p in positions]
    x = np.linspace(cmap.vmin, cmap.vmax, 256)
    fig = go.Figure(go.Heatmap(z=[x], x=x, colorscale=colorscale, showscale=False, hoverinfo="x"))
    left = f"{cmap.low_label} ({cmap.vmin:g})"
    right = f"{cmap.high_label} ({cmap.vmax:g})"
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 28, "b": 30},
        title={"text": f"{cmap.unit}: {left} ... {right}", "x": 0, "font": {"size": 13}},
        yaxis={"visible": False},
        xaxis={"title": None, "ticksuffix": " kPa" if mode == Mode.SWE else ""},
    )
    return fig


def confusion_figure(matrix: np.ndarray, labels: list[str], title: str) -> go.Figure:
    """Heat map of a confusion matrix: rows = confirmed (clinician), columns = proposed (algorithm)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix, texttemplate="%{text}"))
    fig.update_layout(
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        title={"text": title, "x": 0, "font": {"size": 14}},
        xaxis={"title": "proposed (algorithm)"},
        yaxis={"title": "confirmed (clinician)", "autorange": "reversed"},
    )
    return fig
