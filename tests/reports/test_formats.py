"""The files are opened with a library (openpyxl, pdftotext, csv) and compared to the rows."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dms.services.gap_report import COLUMNS
from dms.services.report_formats import HEADINGS_ZH, write_csv, write_pdf, write_xlsx

ROWS: list[dict[str, Any]] = [
    {"customer_no": "3301000001", "customer_name": "张三", "team": "YYB", "handler": "经办甲",
     "business_no": "YW1", "business_type": "LV_RES_NEW", "doc_type": "SFZM",
     "doc_name": "客户身份证明", "status": "missing", "document_id": None, "confidence": None,
     "open_since": datetime(2026, 3, 2, 9, 0, tzinfo=UTC)},
    {"customer_no": "3301000002", "customer_name": "李四电器有限公司", "team": "DKH",
     "handler": "", "business_no": "YW2", "business_type": "HV_NEW", "doc_type": "GYDHT",
     "doc_name": "供用电合同", "status": "confirmed", "document_id": 17, "confidence": 0.98765,
     "open_since": None},
]


def test_csv_round_trip() -> None:
    buf = io.StringIO()
    write_csv(buf, COLUMNS, iter(ROWS), HEADINGS_ZH)
    text = buf.getvalue()
    assert text.startswith("\ufeff")
    got = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert got[0] == [HEADINGS_ZH[c] for c in COLUMNS]
    assert got[1][COLUMNS.index("open_since")] == "2026-03-02 17:00+08:00"
    assert got[2][COLUMNS.index("customer_name")] == "李四电器有限公司"
    assert got[2][COLUMNS.index("confidence")] == "0.988"


@pytest.mark.parametrize("count", [2500, 2000, 1000, 999, 1, 0])
def test_csv_streams_many_rows_in_chunks(count: int) -> None:
    """Every row once and the headings once, whatever the count: an export of exactly
    1000 rows repeated them, one without rows repeated its headings."""
    buf = io.StringIO()
    write_csv(buf, ("n",), ({"n": i} for i in range(count)))
    assert buf.getvalue().splitlines() == ["\ufeffn", *(str(i) for i in range(count))]


def test_xlsx_opened_with_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "gaps.xlsx"
    write_xlsx(path, COLUMNS, iter(ROWS), HEADINGS_ZH, title="缺件报告")
    wb = load_workbook(path, read_only=True)
    ws = wb["缺件报告"]
    cells = [list(r) for r in ws.iter_rows(values_only=True)]
    assert cells[0] == [HEADINGS_ZH[c] for c in COLUMNS]
    assert cells[1][COLUMNS.index("customer_name")] == "张三"
    assert cells[1][COLUMNS.index("document_id")] is None
    assert cells[2][COLUMNS.index("document_id")] == 17
    assert cells[2][COLUMNS.index("doc_name")] == "供用电合同"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_has_the_chinese_text(tmp_path: Path) -> None:
    path = tmp_path / "gaps.pdf"
    printed = write_pdf(path, COLUMNS, iter(ROWS), HEADINGS_ZH, title="缺件报告 YYB")
    assert printed == 2
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    for needle in ("缺件报告", "户号", "张三", "李四电器有限公司", "供用电合同", "3301000002",
                   "2026-03-02 17:00"):  # 09:00 UTC, printed in Beijing time
        assert needle in text, needle


def test_pdf_caps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "many.pdf"
    assert write_pdf(path, ("n",), ({"n": i} for i in range(100)), max_rows=30) == 30
