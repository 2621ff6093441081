"""Build the PDF report (fpdf2) for one case: ``build_report(data) -> bytes``.

Layout, A4 portrait, top to bottom: department header and title; the virtual-elastography label; case block;
B-mode and virtual elastogram side by side with ROI outlines and a colour bar; the colour-distribution chart
(bars drawn with fpdf2 primitives); the algorithm's proposal with its figures; the clinician's confirmed score,
conclusion, reviewer and sign-off; model version and checkpoint hash. The footer repeats the virtual label.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from fpdf import FPDF
from PIL import Image

from usegan.report.data import ReportData, colour_distribution, main_roi
from usegan.report.fonts import MISSING_CJK_NOTE, FontChoice, find_font, make_safe
from usegan.report.labels import LABELS, ORGANS_ZH, PHANTOM_LABEL_EN, VIRTUAL_LABEL_EN

MARGIN = 12.0  # mm
IMAGE_W = 80.0  # mm, each of the two images
ROI_COLOURS = {"lesion": (255, 215, 0)}  # others are white
MAX_FIGURES = 30  # figures listed; the rest are summarised as "+N more"


class _Report(FPDF):
    def __init__(self, font: FontChoice, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.font_choice, self.footer_text, self.replaced = font, footer_text, False
        if font.unicode:
            self.add_font(font.family, "", font.regular, collection_font_number=font.collection_index)
            self.add_font(font.family, "B", font.bold, collection_font_number=font.collection_index)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=16)

    def safe(self, text: object) -> str:
        out, replaced = make_safe(str(text), self.font_choice)
        self.replaced = self.replaced or replaced
        return out

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.font_choice.family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-12)
        self.style(7.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.safe(f"{self.footer_text}   ·   {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "-"
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, dt.datetime) else f"{value:%Y-%m-%d}"


def _number(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def build_report(data: ReportData, *, font: FontChoice | None = None) -> bytes:
    """Render ``data`` to PDF bytes. ``font`` defaults to :func:`usegan.report.fonts.find_font`."""
    font = font or find_font()
    t = LABELS[data.language]
    virtual = VIRTUAL_LABEL_EN + (f" ({t['virtual']})" if t["virtual"] else "")
    pdf = _Report(font, virtual + (f"; {PHANTOM_LABEL_EN.split(':')[0]}" if data.trained_on_phantoms else ""))
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - 2 * MARGIN

    # 1. Header and safety label.
    pdf.style(15, bold=True)
    pdf.cell(width, 7, pdf.safe(data.department), new_x="LMARGIN", new_y="NEXT")
    pdf.style(11)
    pdf.cell(width, 6, pdf.safe(t["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_fill_color(255, 240, 220)
    pdf.style(9, bold=True)
    label = virtual + (f" — {PHANTOM_LABEL_EN}" if data.trained_on_phantoms else "")
    pdf.multi_cell(width, 5, pdf.safe(label), border=1, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    # 2. Case block.
    organ = data.organ + (f" ({data.side})" if data.side else "")
    if data.language == "zh":
        organ = ORGANS_ZH.get(data.organ, data.organ) + (
            f"（{ORGANS_ZH.get(data.side, data.side)}）" if data.side else ""
        )
    rows = [
        (t["case_id"], data.case_id),
        (t["patient"], data.patient_pseudonym),
        (t["exam_date"], _when(data.exam_date)),
        (t["organ"], organ),
        (t["mode"], t[data.mode]),
    ]
    _pairs(pdf, rows, width)

    # 3. Images side by side, ROI outlines, colour bar.
    top = pdf.get_y() + 2
    eh, ew = data.elastogram.shape[:2]
    img_h = IMAGE_W * eh / ew
    if top + img_h + 8 > pdf.h - 20:
        pdf.add_page()
        top = pdf.get_y()
    pdf.style(9, bold=True)
    pdf.set_xy(MARGIN, top)
    pdf.cell(IMAGE_W, 5, pdf.safe(t["bmode"]))
    pdf.set_xy(MARGIN + IMAGE_W + 4, top)
    pdf.cell(IMAGE_W, 5, pdf.safe(f"{t['elastogram']} ({data.mode})"))
    top += 5
    bmode_img = (
        Image.fromarray(data.bmode).convert("RGB").resize((ew, eh))
        if data.bmode.shape[:2] != (eh, ew)
        else Image.fromarray(data.bmode).convert("RGB")
    )
    for x0, img in ((MARGIN, bmode_img), (MARGIN + IMAGE_W + 4, Image.fromarray(data.elastogram))):
        pdf.image(img, x=x0, y=top, w=IMAGE_W, h=img_h)
        _draw_rois(pdf, data.rois, x0, top, IMAGE_W / ew)
    _colour_bar(pdf, data, MARGIN + 2 * IMAGE_W + 8, top, img_h)
    pdf.set_y(top + img_h + 3)

    # 4. Colour distribution chart.
    bars, unknown = colour_distribution(data)
    picked = main_roi(data.rois)
    pdf.style(10, bold=True)
    heading = t["distribution"] + (f" ({picked[0]})" if picked else "")
    pdf.cell(width, 6, pdf.safe(heading), new_x="LMARGIN", new_y="NEXT")
    _bars(pdf, data, bars, unknown, t)

    # 5. Algorithm proposal and its figures.
    pdf.style(10, bold=True)
    pdf.cell(width, 6, pdf.safe(t["proposal"]), new_x="LMARGIN", new_y="NEXT")
    proposal = data.proposal or {}
    if proposal:
        score = proposal.get("score")
        head = f"{proposal.get('system', '')}: {t['score']} {score if score is not None else '-'}"
        _pairs(
            pdf,
            [
                (t["score"], head + (f" — {proposal.get('label')}" if proposal.get("label") else "")),
                (t["algorithm"], proposal.get("algorithm_version", "-")),
            ],
            width,
        )
        figures = {k: v for k, v in (proposal.get("figures") or {}).items() if not isinstance(v, dict | list)}
        items = [(str(k), _number(v)) for k, v in list(figures.items())[:MAX_FIGURES]]
        if len(figures) > MAX_FIGURES:
            items.append(("...", f"+{len(figures) - MAX_FIGURES} more"))
        if items:
            _figure_table(pdf, items, width)
    else:
        pdf.style(9)
        pdf.cell(width, 5, pdf.safe(t["no_proposal"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)

    # 6. The clinician's review, kept visibly apart from the proposal.
    pdf.style(10, bold=True)
    pdf.cell(width, 6, pdf.safe(t["review"]), new_x="LMARGIN", new_y="NEXT")
    signed = _when(data.signed_at) if data.signed_at else t["draft"]
    rows = [
        (t["confirmed"], "-" if data.confirmed_score is None else str(data.confirmed_score)),
        (t["reviewer"], data.reviewer or "-"),
        (t["signed"], signed),
    ]
    if data.amend_reason:
        rows.append((t["amended"], data.amend_reason))
    _pairs(pdf, rows, width)
    for key, text in ((t["conclusion"], data.conclusion), (t["notes"], data.notes)):
        if text:
            pdf.style(9, bold=True)
            pdf.cell(width, 5, pdf.safe(key), new_x="LMARGIN", new_y="NEXT")
            pdf.style(9)
            pdf.multi_cell(width, 4.6, pdf.safe(text), new_x="LMARGIN", new_y="NEXT")

    # 7. Model provenance.
    pdf.ln(1)
    pdf.style(10, bold=True)
    pdf.cell(width, 6, pdf.safe(t["model"]), new_x="LMARGIN", new_y="NEXT")
    _pairs(pdf, [(t["model_version"], data.model_version), (t["checkpoint"], data.checkpoint_sha256)], width)
    if pdf.replaced:
        pdf.style(8)
        pdf.set_text_color(160, 0, 0)
        pdf.multi_cell(width, 4, MISSING_CJK_NOTE, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())


def _pairs(pdf: _Report, rows: list[tuple[str, object]], width: float) -> None:
    for key, value in rows:
        pdf.style(9, bold=True)
        pdf.cell(45, 5, pdf.safe(key))
        pdf.style(9)
        pdf.multi_cell(width - 45, 5, pdf.safe(value), new_x="LMARGIN", new_y="NEXT")


def _figure_table(pdf: _Report, items: list[tuple[str, str]], width: float) -> None:
    pdf.style(8)
    col = width / 2
    for i in range(0, len(items), 2):
        for name, value in items[i : i + 2]:
            pdf.cell(col * 0.62, 4.2, pdf.safe(name), border="B")
            pdf.cell(col * 0.38 - 2, 4.2, pdf.safe(value), border="B", align="R")
            pdf.cell(2, 4.2, "")
        pdf.ln(4.2)


def _draw_rois(pdf: _Report, rois: dict, x0: float, y0: float, scale: float) -> None:
    pdf.set_line_width(0.45)
    for name, shape in rois.items():
        pdf.set_draw_color(*ROI_COLOURS.get(name, (255, 255, 255)))
        if "points" in shape:
            pdf.polygon([(x0 + float(x) * scale, y0 + float(y) * scale) for x, y in shape["points"]], style="D")
            lx, ly = (float(v) for v in shape["points"][0])
        elif "rx" in shape:
            cx, cy, rx, ry = (float(shape[k]) for k in ("cx", "cy", "rx", "ry"))
            pdf.ellipse(x0 + (cx - rx) * scale, y0 + (cy - ry) * scale, 2 * rx * scale, 2 * ry * scale, style="D")
            lx, ly = cx - rx, cy - ry
        else:
            x, y, w, h = (float(shape[k]) for k in ("x", "y", "w", "h"))
            pdf.rect(x0 + x * scale, y0 + y * scale, w * scale, h * scale, style="D")
            lx, ly = x, y
        pdf.style(6.5)
        pdf.set_text_color(*ROI_COLOURS.get(name, (255, 255, 255)))
        pdf.text(x0 + lx * scale + 0.5, max(y0 + 2.5, y0 + ly * scale - 0.8), pdf.safe(name))
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)


def _colour_bar(pdf: _Report, data: ReportData, x: float, y: float, height: float) -> None:
    cmap = data.colormap()
    strip = Image.fromarray(np.ascontiguousarray(cmap.lut[::-1][:, None, :].repeat(8, axis=1)))  # red on top
    pdf.image(strip, x=x, y=y, w=5, h=height)
    pdf.rect(x, y, 5, height)
    pdf.style(7)
    top, bottom = f"{cmap.vmax:g}", f"{cmap.vmin:g}"
    pdf.text(x + 6, y + 2.5, pdf.safe(f"{top} {cmap.high_label}"))
    pdf.text(x + 6, y + height, pdf.safe(f"{bottom} {cmap.low_label}"))
    pdf.text(x + 6, y + height / 2, pdf.safe(cmap.unit))


def _bars(pdf: _Report, data: ReportData, bars: list, unknown: float, t: dict) -> None:
    cmap = data.colormap()
    x_label, x_bar, bar_w, row_h = MARGIN, MARGIN + 30, 110.0, 5.2
    pdf.style(8.5)
    for label, fraction, scalar in bars:
        y = pdf.get_y()
        pdf.set_xy(x_label, y)
        pdf.cell(30, row_h - 0.6, pdf.safe(t.get(label, label)))
        colour = cmap.apply(np.array([scalar]))[0]
        pdf.set_fill_color(*(int(c) for c in colour))
        pdf.rect(x_bar, y + 0.6, max(bar_w * fraction, 0.2), row_h - 1.6, style="F")
        pdf.set_draw_color(170, 170, 170)
        pdf.rect(x_bar, y + 0.6, bar_w, row_h - 1.6, style="D")
        pdf.set_draw_color(0, 0, 0)
        pdf.set_xy(x_bar + bar_w + 2, y)
        pdf.cell(20, row_h - 0.6, f"{100 * fraction:.1f}%")
        pdf.set_y(y + row_h)
    if unknown > 0.005:
        pdf.style(7.5)
        pdf.cell(0, 4, pdf.safe(f"{t['unknown']}: {100 * unknown:.1f}%"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
