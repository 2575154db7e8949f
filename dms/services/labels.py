"""Barcode labels for boxes and volumes as PDF: one label per page for label printers
(default 100×60 mm), or many per A4 sheet.

Each label carries a Code 128 barcode and a QR code of the box code (or volume
number), the location code and what the box holds, in Chinese, in the TrueType CJK
font ``hanzi.fonts`` finds (reportlab cannot embed the CFF-flavoured Noto CJK fonts).
"""
from __future__ import annotations

import io
import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db.models import Box, Business, Customer, Slot, Volume
from dms.domain.locations import range_label
from dms.errors import InvalidInputError, MissingDependencyError, NotFoundError
from hanzi.fonts import MissingFontError, reportlab_font

# 4 mm margins fit two 100 mm columns on A4 (2 × 4 labels of 100×60 mm).
SHEET_MARGIN, SHEET_GAP = 4 * mm, 2 * mm
Layout = Literal["label", "a4"]


@dataclass(frozen=True)
class LabelSize:
    width_mm: float = 100.0
    height_mm: float = 60.0

    def __post_init__(self) -> None:
        if not (30 <= self.width_mm <= 200 and 20 <= self.height_mm <= 150):
            raise InvalidInputError("label size must be 30–200 × 20–150 mm")


@dataclass(frozen=True)
class LabelContent:
    code: str            # what the barcode and the QR code carry
    heading: str         # 档案盒 / 卷宗
    location: str        # R01-J03-A-05-2, or 未上架
    lines: tuple[str, ...]


def register_font() -> str:
    try:
        return reportlab_font()
    except MissingFontError as exc:
        raise MissingDependencyError(f"标签：{exc}", hint=exc.hint) from exc


# --- what goes on the labels ---------------------------------------------------------------


def box_label_contents(session: Session, codes: list[str]) -> list[LabelContent]:
    """Labels for boxes, in the order asked: location, customers and volumes held."""
    codes = [c.strip().upper() for c in codes if c.strip()]
    boxes = {code: (bid, slot) for bid, code, slot in session.execute(
        select(Box.id, Box.code, Slot.code).outerjoin(Slot, Slot.id == Box.slot_id)
        .where(Box.code.in_(codes)))}
    unknown = [c for c in codes if c not in boxes]
    if unknown:
        raise NotFoundError(f"unknown box code(s): {', '.join(unknown[:5])}")
    held: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for box_id, vno, cno, cname in session.execute(
            select(Volume.box_id, Volume.volume_no, Customer.customer_no, Customer.name)
            .join(Customer, Customer.id == Volume.customer_id)
            .where(Volume.box_id.in_([b for b, _ in boxes.values()]))):
        if box_id is not None:
            held[box_id].append((vno, cno, cname))
    out = []
    for code in codes:
        box_id, slot = boxes[code]
        vols = held.get(box_id, [])
        names = sorted({n for _, _, n in vols if n})
        who = "、".join(names[:3]) + (f" 等{len(names)}户" if len(names) > 3 else "")
        out.append(LabelContent(code, "档案盒", slot or "未上架", (
            f"户号 {range_label(c for _, c, _ in vols) or '—'}",
            f"户名 {who or '—'}",
            f"卷宗 {range_label(v for v, _, _ in vols) or '—'}（{len(vols)}卷）")))
    return out


def volume_label_contents(session: Session, volume_nos: list[str]) -> list[LabelContent]:
    """Spine/cover labels for volumes: customer, business, box and location."""
    nos = [v.strip().upper() for v in volume_nos if v.strip()]
    rows = {r[0]: r for r in session.execute(
        select(Volume.volume_no, Volume.title, Customer.customer_no, Customer.name,
               Business.business_no, Box.code, Slot.code)
        .join(Customer, Customer.id == Volume.customer_id)
        .outerjoin(Business, Business.id == Volume.business_id)
        .outerjoin(Box, Box.id == Volume.box_id).outerjoin(Slot, Slot.id == Box.slot_id)
        .where(Volume.volume_no.in_(nos)))}
    unknown = [v for v in nos if v not in rows]
    if unknown:
        raise NotFoundError(f"unknown volume number(s): {', '.join(unknown[:5])}")
    out = []
    for vno in nos:
        _, title, cno, cname, bno, box, slot = rows[vno]
        out.append(LabelContent(vno, "卷宗", slot or "未上架", (
            f"户号 {cno}  户名 {cname}", f"业务 {bno or '全宗'}  {title}",
            f"档案盒 {box or '未装盒'}")))
    return out


# --- drawing -----------------------------------------------------------------------------------


def _fit(canvas: Canvas, text: str, size: float, width: float) -> str:
    font = register_font()
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def qr_modules(data: str) -> list[list[bool]]:
    """The QR matrix of ``data`` at error-correction level M (about 15% may be damaged)."""
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    return [[bool(v) for v in row] for row in code.modules]


def draw_qr(canvas: Canvas, data: str, x: float, y: float, side: float, border: int = 2) -> None:
    """Draw the QR code as one filled path of horizontal runs: far fewer PDF operators
    and Python objects than reportlab's widget, which builds a shape per run."""
    rows = qr_modules(data)
    n = len(rows)
    cell = side / (n + 2 * border)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        top = y + side - (r + border + 1) * cell
        c = 0
        for dark, run in itertools.groupby(row):
            count = len(list(run))
            if dark:
                path.rect(x + (c + border) * cell, top, count * cell, cell)
            c += count
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)


def draw_label(canvas: Canvas, label: LabelContent, x: float, y: float, w: float,
               h: float) -> None:
    """One label with its lower-left corner at (x, y), scaled to its size."""
    font = register_font()
    k = min(w / (100 * mm), h / (60 * mm))
    m = 3 * mm * k
    qr_side = h * 0.46
    draw_qr(canvas, label.code, x + w - m - qr_side, y + h - m - qr_side, qr_side)
    text_w = w - qr_side - 3 * m
    canvas.setFont(font, 10 * k)
    canvas.drawString(x + m, y + h - m - 10 * k, _fit(canvas, label.heading, 10 * k, text_w))
    # Code 128 below the heading, with a 10-module quiet zone either side.
    modules = Code128(label.code, barWidth=1, quiet=0).width
    bar_w = min(0.5 * mm, text_w / (modules + 20))
    bar_h = h * 0.24
    barcode = Code128(label.code, barWidth=bar_w, barHeight=bar_h, quiet=0)
    bar_y = y + h - m - 13 * k - bar_h
    barcode.drawOn(canvas, x + m + 10 * bar_w, bar_y)
    canvas.setFont(font, 9 * k)
    canvas.drawString(x + m + 10 * bar_w, bar_y - 10 * k, label.code)
    # Location in large type, then the contents.
    loc_size = 15 * k
    canvas.setFont(font, loc_size)
    loc_y = min(bar_y - 12 * k - loc_size, y + h - m - qr_side - loc_size - 2 * k)
    canvas.drawString(x + m, loc_y, _fit(canvas, f"位置 {label.location}", loc_size, w - 2 * m))
    size = 8.5 * k
    canvas.setFont(font, size)
    for i, line in enumerate(label.lines):
        ly = loc_y - (i + 1) * size * 1.45
        if ly < y + m * 0.5:
            break
        canvas.drawString(x + m, ly, _fit(canvas, line, size, w - 2 * m))


def sheet_grid(size: LabelSize) -> tuple[int, int]:
    """Columns and rows of labels that fit on an A4 sheet."""
    w, h = size.width_mm * mm, size.height_mm * mm
    cols = int((A4[0] - 2 * SHEET_MARGIN + SHEET_GAP) // (w + SHEET_GAP))
    rows = int((A4[1] - 2 * SHEET_MARGIN + SHEET_GAP) // (h + SHEET_GAP))
    if cols < 1 or rows < 1:
        raise InvalidInputError("labels of this size do not fit on A4")
    return cols, rows


def sheet_cells(size: LabelSize) -> list[tuple[float, float]]:
    """Lower-left corners (points, PDF coordinates) of the labels on an A4 sheet, in
    reading order: left to right, top to bottom."""
    cols, rows = sheet_grid(size)
    w, h = size.width_mm * mm, size.height_mm * mm
    return [(SHEET_MARGIN + col * (w + SHEET_GAP),
             A4[1] - SHEET_MARGIN - (row + 1) * h - row * SHEET_GAP)
            for row in range(rows) for col in range(cols)]


def render_labels_pdf(labels: list[LabelContent], *, size: LabelSize = LabelSize(),
                      layout: Layout = "label") -> bytes:
    """All labels as one PDF: a page per label, or A4 sheets with cut lines."""
    if not labels:
        raise InvalidInputError("no labels to print")
    register_font()
    w, h = size.width_mm * mm, size.height_mm * mm
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(w, h) if layout == "label" else A4, pageCompression=1)
    canvas.setTitle("dms labels")
    if layout == "label":
        for label in labels:
            draw_label(canvas, label, 0, 0, w, h)
            canvas.showPage()
    else:
        cells = sheet_cells(size)
        per_sheet = len(cells)
        for i, label in enumerate(labels):
            x, y = cells[i % per_sheet]
            canvas.setStrokeGray(0.8)
            canvas.setLineWidth(0.3)
            canvas.rect(x, y, w, h)
            draw_label(canvas, label, x, y, w, h)
            if (i + 1) % per_sheet == 0 or i == len(labels) - 1:
                canvas.showPage()
    canvas.save()
    return buf.getvalue()
