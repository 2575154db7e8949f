"""Report rows to files: CSV (streamed line by line), XLSX (openpyxl write-only, so rows
are not held in memory) and a printable PDF (reportlab, with a CJK font so Chinese prints).

Every writer takes the column names, their headings and an iterable of row dicts; the
CSV helpers at the end stream rows the database already formatted (tuples from a cursor,
or PostgreSQL's ``COPY … TO STDOUT``) without a Python object per row.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from dms.domain.localtime import display_zone_name, minute_with_offset
from dms.errors import MissingDependencyError
from hanzi.fonts import MissingFontError, reportlab_font


HEADINGS_ZH = {
    "customer_no": "户号", "customer_name": "户名", "team": "班组", "handler": "经办人",
    "business_no": "业务号", "business_type": "业务类型", "doc_type": "资料代码",
    "doc_name": "资料名称", "status": "状态", "document_id": "文档", "confidence": "置信度",
    "open_since": "缺件起始",
}


def csv_datetime(v: datetime) -> str:
    """An instant to the minute in the deployment's zone with its offset, as the
    database-formatted CSV writes it. Naive values are UTC (SQLite keeps no offset; dms
    stores UTC)."""
    return minute_with_offset(v, display_zone_name()) or ""


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return csv_datetime(v)
    if isinstance(v, float):
        return round(v, 3)
    return "" if v is None else v


def _take(buf: io.StringIO) -> str:
    """The buffer's text, leaving it empty."""
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


def csv_lines(columns: Sequence[str], rows: Iterable[dict[str, Any]],
              headings: dict[str, str] | None = None) -> Iterator[str]:
    """CSV text in chunks of lines, for a streamed HTTP response or a file. Starts with a
    BOM so Excel opens the UTF-8 Chinese correctly."""
    buf = io.StringIO()
    w = csv.writer(buf)
    h = headings or {}
    w.writerow([h.get(c, c) for c in columns])
    # The buffer is emptied as soon as its text is yielded: what is left at the end has
    # not been sent (emptied at the next row instead, an export without rows repeated its
    # headings, and one of 1000, 2000… rows its last thousand).
    yield "\ufeff" + _take(buf)
    for i, r in enumerate(rows, 1):
        w.writerow([_cell(r.get(c)) for c in columns])
        if i % 1000 == 0:
            yield _take(buf)
    if buf.tell():
        yield _take(buf)


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
    try:
        return reportlab_font()
    except MissingFontError as exc:  # a ConfigError, as before (MissingDependencyError is one)
        raise MissingDependencyError(f"PDF 导出：{exc}", hint=exc.hint) from exc


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


CSV_CHUNK = 1 << 16


def csv_header(columns: Sequence[str], headings: dict[str, str]) -> str:
    """BOM (so Excel reads the UTF-8 Chinese) and the headings line; rows end in ``\n``
    like PostgreSQL's COPY writes them."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([headings.get(c, c) for c in columns])
    return "\ufeff" + buf.getvalue()


def csv_rows_chunks(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[str]:
    """CSV text of batches of already formatted rows (``None`` = empty cell): one
    ``writerows`` per batch, the loop over rows and cells stays in C."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for batch in batches:
        w.writerows(batch)
        if buf.tell() >= CSV_CHUNK:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def pg_copy_csv_chunks(dbapi_connection: Any, copy_sql: str) -> Iterator[str]:
    """Stream ``COPY (…) TO STDOUT`` as text chunks. psycopg2 only copies into a file, so a
    thread copies into a pipe while this generator reads the other end: memory stays at
    the pipe's size, and when the reader stops early (a client went away), closing the
    pipe makes the copy fail with a broken pipe instead of running on."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def copy() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=CSV_CHUNK) as sink, \
                    dbapi_connection.cursor() as cur:
                cur.copy_expert(copy_sql, sink)
        except BaseException as e:  # handed to the reading thread
            failure.append(e)

    worker = threading.Thread(target=copy, name="dms-copy-csv", daemon=True)
    worker.start()
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with os.fdopen(read_fd, "rb") as source:
            while chunk := source.read(CSV_CHUNK):
                yield decoder.decode(chunk)
    finally:
        worker.join()
    if failure:
        raise failure[0]
