"""The gap report's "缺少必备信息的文档" as a CSV download: every document lacking a fact
its type requires, not only the newest 500 the page shows, for a team leader to work
through (issue 20).

The rows are ``missing_facts.documents_missing_facts`` (streamed, newest first, as the
page lists them), masked or not by the caller as the page masks them; this module only
names the cells in the reader's language and writes them with ``report_formats.csv_lines``
(BOM, times in the deployment's zone with their offset, like the other CSV downloads).
Document type names are the deployment's checklist, shown as configured.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dms import translations
from dms.domain.checklist import Checklist
from dms.domain.facts import FIELD_NAMES_ZH
from dms.services.report_formats import HEADINGS_ZH as GAP_HEADINGS_ZH
from dms.services.report_formats import csv_lines

COLUMNS = ("document_id", "customer_no", "customer_name", "business_no", "doc_type",
           "doc_name", "missing", "end_date_unknown", "created_at")
# Chinese headings, msgids of the catalog (English through it, ``headings``).
HEADINGS_ZH = {
    "document_id": "文档编号", "customer_no": GAP_HEADINGS_ZH["customer_no"],
    "customer_name": GAP_HEADINGS_ZH["customer_name"],
    "business_no": GAP_HEADINGS_ZH["business_no"], "doc_type": GAP_HEADINGS_ZH["doc_type"],
    "doc_name": GAP_HEADINGS_ZH["doc_name"], "missing": "缺少的信息",
    "end_date_unknown": "到期日未识别", "created_at": "上传时间",
}


def headings(locale: str) -> dict[str, str]:
    return translations.names(HEADINGS_ZH, locale)


def named_rows(rows: Iterable[dict[str, Any]], checklist: Checklist, locale: str
               ) -> Iterator[dict[str, Any]]:
    """The cells as people read them: the document type's name beside its code, the
    missing facts by their names joined as the page joins them (合同编号、合同终止日期),
    the end-date flag as 是 or empty."""
    fields = translations.names(FIELD_NAMES_ZH, locale)
    joiner = translations.gettext("、", locale)
    yes = translations.gettext("是", locale)
    types = checklist.document_types
    for r in rows:
        t = types.get(r["doc_type"] or "")
        yield {**r, "doc_name": t.name if t else "",
               "missing": joiner.join(fields.get(m, m) for m in r["missing"]),
               "end_date_unknown": yes if r["end_date_unknown"] else ""}


def missing_facts_csv(rows: Iterable[dict[str, Any]], checklist: Checklist,
                      locale: str) -> Iterator[str]:
    """CSV text in chunks of lines: BOM and headings in ``locale``, then one line per row
    of ``documents_missing_facts``, in its order."""
    yield from csv_lines(COLUMNS, named_rows(rows, checklist, locale), headings(locale))
