"""Gap-report exports in the reader's language (issue 19): headings, statuses and the
title from the ``dms.translations`` catalog.

The Chinese CSV stays the database-formatted fast path of ``gap_report.gap_csv_chunks``
(its statuses are SQL literals of the Chinese names, the same bytes from SQLite, PostgreSQL
and the gap table); another language's CSV is written from ``gap_rows`` in Python, with the
same cells (``report_formats.csv_lines``). Business-type and document names are the
deployment's checklist, shown as configured.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from dms import translations
from dms.domain.checklist import Checklist
from dms.services.gap_report import COLUMNS, GapFilter, gap_csv_chunks, gap_rows, named_rows
from dms.services.report_formats import HEADINGS_ZH, csv_lines, write_pdf, write_xlsx

def headings(locale: str) -> dict[str, str]:
    return translations.names(HEADINGS_ZH, locale)


def title(locale: str) -> str:
    return translations.gettext("缺件报告", locale)


def is_chinese(locale: str) -> bool:
    return translations.normalize(locale) == "zh_CN"


def gap_csv(session: Session, checklist: Checklist, review_below: float, f: GapFilter,
            locale: str) -> Iterator[str]:
    if is_chinese(locale):
        yield from gap_csv_chunks(session, checklist, review_below, f)
        return
    rows = named_rows(gap_rows(session, checklist, review_below, f), checklist, locale)
    yield from csv_lines(COLUMNS, rows, headings(locale))


def gap_xlsx(out: IO[bytes] | Path, rows: Iterator[dict[str, Any]], locale: str) -> None:
    """``rows``: ``named_rows(…, locale)`` (masked or not, as the caller decides)."""
    write_xlsx(out, COLUMNS, rows, headings(locale), title=title(locale))


def gap_pdf(out: IO[bytes] | Path, rows: Iterator[dict[str, Any]], locale: str) -> int:
    return write_pdf(out, COLUMNS, rows, headings(locale), title=title(locale))
