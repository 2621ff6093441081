"""Build the PDF report (fpdf2) of one reading: ``build_report(data) -> bytes``.

Page 1, A4 portrait, what a clinician signs: department, title and report status; the virtual-elastography label
with the model version and its provenance caveat; patient (pseudonym), exam, organ, mode; B-mode and virtual
elastogram side by side with ROI outlines, a VIRTUAL stamp with the model version on the elastogram itself and a
colour bar with units; the findings a reader uses (:func:`usegan.report.findings.key_figures`); the algorithm's
proposal and the clinician's confirmed score side by side, each with its scale and wording; conclusion; signature
and time; model and training data. Every heading is kept on one page with its content (fpdf2 ``unbreakable``).
The appendix (last page) holds the colour distribution and every internal figure behind the proposal.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from fpdf import FPDF
from PIL import Image

from usegan.provenance import CAVEATS, CAVEATS_ZH
from usegan.report.data import ReportData, colour_distribution, main_roi
from usegan.report.findings import appendix_items, describe_score, key_figures
from usegan.report.fonts import MISSING_CJK_NOTE, FontChoice, find_font, make_safe
from usegan.report.labels import LABELS, ORGANS_ZH, VIRTUAL_LABEL_EN
from usegan.vocab import Mode

MARGIN = 12.0  # mm
IMAGE_W = 76.0  # mm, each of the two images
ROI_COLOURS = {"lesion": (255, 215, 0)}  # others are white


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


def build_report(data: ReportData, *, font: FontChoice | None = None, appendix: bool = True) -> bytes:
    """Render ``data`` to PDF bytes. ``font`` defaults to :func:`usegan.report.fonts.find_font`; ``appendix`` adds
    a last page with every figure behind the proposal (internal names stay off page 1)."""
    font = font or find_font()
    t = LABELS[data.language]
    virtual = VIRTUAL_LABEL_EN + (f" ({t['virtual']})" if t["virtual"] else "")
    caveats = CAVEATS_ZH if data.language == "zh" else CAVEATS
    caveat = caveats[data.provenance]
    pdf = _Report(font, f"{virtual} · {data.model_version} · {data.case_id}")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - 2 * MARGIN

    # 1. Header: department, title, report status; the safety label with the model's provenance.
    pdf.style(14, bold=True)
    pdf.cell(width, 7, pdf.safe(data.department), new_x="LMARGIN", new_y="NEXT")
    pdf.style(11)
    status = {"signed": t["status_signed"], "amended": t["status_amended"].format(version=data.version)}
    pdf.cell(width, 6, pdf.safe(f"{t['title']} — {status.get(str(data.status), t['status_draft'])}"),
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_fill_color(255, 240, 220)
    pdf.style(8.5, bold=True)
    label = f"{virtual} ({data.model_version}) — {caveat}"
    pdf.multi_cell(width, 4.6, pdf.safe(label), border=1, fill=True, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)

    # 2. Patient and exam.
    organ = data.organ + (f" ({data.side})" if data.side else "")
    if data.language == "zh":
        organ = ORGANS_ZH.get(data.organ, data.organ) + (
            f"（{ORGANS_ZH.get(data.side, data.side)}）" if data.side else ""
        )
    _grid(
        pdf,
        [
            (t["patient"], data.patient_pseudonym),
            (t["case_id"], data.case_id),
            (t["exam_date"], _when(data.exam_date)),
            (t["organ"], organ),
            (t["mode"], t[data.mode]),
        ],
        width,
    )

    # 3. B-mode | virtual elastogram (ROI outlines, VIRTUAL stamp with the model version) | colour bar with units.
    _images(pdf, data, t)

    # 4. Findings a reader uses; then the proposal and the confirmed score side by side.
    rows = key_figures(data)
    with pdf.unbreakable() as block:
        _heading(block, t["findings"], width)
        _pairs(block, rows, width)
    proposal = data.proposal or {}
    proposed = describe_score(proposal.get("system"), proposal.get("score"), data.language, proposal.get("label", ""))
    confirmed = describe_score(data.scale, data.confirmed_score, data.language)
    if pdf.get_y() + 26 > pdf.page_break_trigger:  # keep the two boxes together on one page
        pdf.add_page()
    pdf.ln(1.5)
    _side_by_side(pdf, (t["proposed"], proposed if proposal else t["no_proposal"]), (t["confirmed_by"], confirmed),
                  width)  # fmt: skip

    # 5. Conclusion and signature, each kept with its heading.
    for heading, text in ((t["conclusion"], data.conclusion), (t["notes"], data.notes)):
        if text:
            with pdf.unbreakable() as block:
                _heading(block, heading, width)
                block.style(9.5)
                block.multi_cell(width, 4.8, block.safe(text), align="L", new_x="LMARGIN", new_y="NEXT")
    with pdf.unbreakable() as block:
        _heading(block, t["signature"], width)
        who = data.reviewer or "-"
        signed = t["signed_by"].format(who=who, when=_when(data.signed_at)) if data.signed_at else t["unsigned"]
        rows = [(t["signed"], signed)]
        if data.amend_reason:
            rows.append((t["amended"], data.amend_reason))
        _pairs(block, rows, width)

    # 6. Model provenance.
    with pdf.unbreakable() as block:
        _heading(block, t["provenance"], width)
        _pairs(block, [(t["model_version"], f"{data.model_version} — {caveat}"),
                       (t["checkpoint"], data.checkpoint_sha256)], width)  # fmt: skip

    # 7. Appendix: the colour distribution and every figure behind the proposal, by internal name.
    if appendix:
        _appendix(pdf, data, t, width)
    if pdf.replaced:
        pdf.style(8)
        pdf.set_text_color(160, 0, 0)
        pdf.multi_cell(width, 4, MISSING_CJK_NOTE, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())


def _heading(pdf: _Report, text: str, width: float) -> None:
    pdf.ln(1)
    pdf.style(10.5, bold=True)
    pdf.cell(width, 6, pdf.safe(text), border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.8)


def _grid(pdf: _Report, rows: list[tuple[str, object]], width: float) -> None:
    """Label / value pairs two to a row (patient block)."""
    col = width / 2
    for i in range(0, len(rows), 2):
        for key, value in rows[i : i + 2]:
            pdf.style(8.5, bold=True)
            pdf.cell(34, 5, pdf.safe(key))
            pdf.style(9)
            pdf.cell(col - 34, 5, pdf.safe(value))
        pdf.ln(5)


def _side_by_side(pdf: _Report, left: tuple[str, str], right: tuple[str, str], width: float) -> None:
    """Two bordered boxes on one row: the algorithm's proposal and the clinician's confirmed score."""
    box = (width - 4) / 2
    top = pdf.get_y()
    bottoms = []
    for i, (title, text) in enumerate((left, right)):
        x = MARGIN + i * (box + 4)
        pdf.set_xy(x + 1.5, top + 1.2)
        pdf.style(8.5, bold=True)
        pdf.multi_cell(box - 3, 4.4, pdf.safe(title), align="L", new_x="LEFT", new_y="NEXT")
        pdf.style(10.5 if i else 9.5, bold=bool(i))
        pdf.multi_cell(box - 3, 5, pdf.safe(text), align="L", new_x="LEFT", new_y="NEXT")
        bottoms.append(pdf.get_y() + 1.2)
    bottom = max(bottoms)
    for i in range(2):
        pdf.rect(MARGIN + i * (box + 4), top, box, bottom - top)
    pdf.set_xy(MARGIN, bottom + 1)


def _images(pdf: _Report, data: ReportData, t: dict) -> None:
    eh, ew = data.elastogram.shape[:2]
    img_h = IMAGE_W * eh / ew
    top = pdf.get_y() + 1.5
    if top + img_h + 8 > pdf.h - 20:
        pdf.add_page()
        top = pdf.get_y()
    pdf.style(9, bold=True)
    pdf.set_xy(MARGIN, top)
    pdf.cell(IMAGE_W, 5, pdf.safe(t["bmode"]))
    pdf.set_xy(MARGIN + IMAGE_W + 4, top)
    pdf.cell(IMAGE_W, 5, pdf.safe(f"{t['elastogram']} ({t[data.mode]})"))
    top += 5
    bmode_img = Image.fromarray(data.bmode).convert("RGB")
    if data.bmode.shape[:2] != (eh, ew):
        bmode_img = bmode_img.resize((ew, eh))
    x_elasto = MARGIN + IMAGE_W + 4
    for x0, img in ((MARGIN, bmode_img), (x_elasto, Image.fromarray(data.elastogram))):
        pdf.image(img, x=x0, y=top, w=IMAGE_W, h=img_h)
        _draw_rois(pdf, data.rois, x0, top, IMAGE_W / ew)
    _stamp(pdf, f"{t['virtual_stamp']} · {data.model_version}", x_elasto, top + img_h, IMAGE_W)
    _colour_bar(pdf, data, x_elasto + IMAGE_W + 4, top, img_h)
    pdf.set_y(top + img_h + 2)


def _stamp(pdf: _Report, text: str, x: float, bottom: float, width: float) -> None:
    """The VIRTUAL label printed on the elastogram itself (a dark strip along its lower edge)."""
    pdf.set_fill_color(20, 20, 20)
    pdf.rect(x, bottom - 5, width, 5, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.style(7.5, bold=True)
    pdf.set_xy(x, bottom - 5)
    pdf.cell(width, 5, pdf.safe(text), align="C")
    pdf.set_text_color(0, 0, 0)


def _appendix(pdf: _Report, data: ReportData, t: dict, width: float) -> None:
    items = appendix_items(data)
    pdf.add_page()
    _heading(pdf, t["appendix"], width)
    bars, unknown = colour_distribution(data)
    picked = main_roi(data.rois)
    pdf.style(9, bold=True)
    pdf.cell(width, 5, pdf.safe(t["distribution"] + (f" ({picked[0]})" if picked else "")), new_x="LMARGIN",
             new_y="NEXT")  # fmt: skip
    _bars(pdf, data, bars, unknown, t)
    proposal = data.proposal or {}
    _pairs(pdf, [(t["algorithm"], proposal.get("algorithm_version", "-")), (t["score"], proposal.get("label", "-"))],
           width)  # fmt: skip
    if items:
        _figure_table(pdf, items, width)


def _pairs(pdf: _Report, rows: list[tuple[str, object]], width: float) -> None:
    for key, value in rows:
        pdf.style(9, bold=True)
        pdf.cell(45, 5, pdf.safe(key))
        pdf.style(9)
        pdf.multi_cell(width - 45, 5, pdf.safe(value), align="L", new_x="LMARGIN", new_y="NEXT")


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
    if data.mode == Mode.SWE and cmap.vmax > 0:  # shear-wave speed beside kPa: E = 3 rho c^2
        from usegan.scoring.swe import kpa_to_speed

        pdf.text(x + 6, y + 6, pdf.safe(f"({float(kpa_to_speed(cmap.vmax)):.1f} m/s)"))


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
