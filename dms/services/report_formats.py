"""Report rows to files: CSV (streamed line by line), XLSX (openpyxl write-only, so rows
are not held in memory) and a printable PDF (reportlab, with a CJK font so Chinese prints).

Every writer takes the column names, their headings and an iterable of row dicts.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from dms.errors import ConfigError

CJK_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CJK_FONT = "WenQuanYiZenHei"

HEADINGS_ZH = {
    "customer_no": "户号", "customer_name": "户名", "team": "班组", "handler": "经办人",
    "business_no": "业务号", "business_type": "业务类型", "doc_type": "资料代码",
    "doc_name": "资料名称", "status": "状态", "document_id": "文档", "confidence": "置信度",
    "open_since": "缺件起始",
}


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, float):
        return round(v, 3)
    return "" if v is None else v


def csv_lines(columns: Sequence[str], rows: Iterable[dict[str, Any]],
              headings: dict[str, str] | None = None) -> Iterator[str]:
    """CSV text in chunks of lines, for a streamed HTTP response or a file. Starts with a
    BOM so Excel opens the UTF-8 Chinese correctly."""
    buf = io.StringIO()
    w = csv.writer(buf)
    h = headings or {}
    w.writerow([h.get(c, c) for c in columns])
    yield "\ufeff" + buf.getvalue()
    for i, r in enumerate(rows, 1):
        if i % 1000 == 1:
            buf.seek(0)
            buf.truncate()
        w.writerow([_cell(r.get(c)) for c in columns])
        if i % 1000 == 0:
            yield buf.getvalue()
    if buf.tell():
        yield buf.getvalue()


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[dict[str, Any]],
              headings: dict[str, str] | None = None) -> None:
    for chunk in csv_lines(columns, rows, headings):
        out.write(chunk)


def write_xlsx(out: IO[bytes] | Path, columns: Sequence[str], rows: Iterable[dict[str, Any]],
               headings: dict[str, str] | None = None, title: str = "report") -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    h = headings or {}
    ws.append([h.get(c, c) for c in columns])
    for r in rows:
        ws.append([_cell(r.get(c)) for c in columns])
    wb.save(out)


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        if not CJK_FONT_PATH.exists():
            raise ConfigError(f"CJK font {CJK_FONT_PATH} is missing",
                              hint="apt-get install fonts-wqy-zenhei")
        pdfmetrics.registerFont(TTFont(CJK_FONT, str(CJK_FONT_PATH), subfontIndex=0))
    return CJK_FONT


def write_pdf(out: IO[bytes] | Path, columns: Sequence[str], rows: Iterable[dict[str, Any]],
              headings: dict[str, str] | None = None, title: str = "",
              max_rows: int = 5000) -> int:
    """A printable landscape A4 table; at most ``max_rows`` rows (a printout of millions
    of rows helps nobody — use CSV/XLSX for that). Returns the rows printed."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, TableStyle

    font = _register_font()
    h = headings or {}
    data: list[list[Any]] = [[h.get(c, c) for c in columns]]
    for r in rows:
        if len(data) > max_rows:
            break
        data.append([str(_cell(r.get(c))) for c in columns])
    table = LongTable(data, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    heading = Paragraph(title, ParagraphStyle("title", fontName=font, fontSize=13,
                                              leading=18, spaceAfter=6))
    target = str(out) if isinstance(out, Path) else out
    SimpleDocTemplate(target, pagesize=landscape(A4), leftMargin=10 * mm,
                      rightMargin=10 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
                      title=title).build([heading, table])
    return len(data) - 1
