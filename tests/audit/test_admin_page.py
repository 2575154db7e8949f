"""/admin/audit: administrators only, filters, bounded pages, CSV for Excel in the
deployment's zone; bad input is a 400 naming the field."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from dms.db import audit
from dms.db.models import AuditEvent
from dms.db.session import session_scope
from dms.services.container import Services
from tests.audit.conftest import client


def _seed(svc: Services) -> None:
    with session_scope(svc.sessions) as s:
        for i in range(30):
            audit.record(s, actor="alice" if i % 2 else "bob", action="document_view",
                         entity="document", entity_id=i, customer_no=f"330100{i % 3:04d}",
                         remote_addr="10.0.0.1")
        s.add(AuditEvent(at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC), actor="carol",
                         action="original_download", entity="document", entity_id="7",
                         customer_no="3301000001", reason="=HYPERLINK(\"http://x\")"))


def test_only_administrators_see_the_audit_log(svc: Services) -> None:
    for name in ("handler", "manager", "lawyer"):
        c = client(svc, name)
        assert c.get("/admin/audit").status_code == 403
        assert c.get("/admin/audit.csv").status_code == 403
    page = client(svc, "root").get("/admin/audit")
    assert page.status_code == 200 and "审计日志" in page.get_data(as_text=True)
    assert client(svc, "root").get("/admin/audit?lang=en").get_data(as_text=True) \
        .count("Audit log") >= 1


def test_filters_paging_and_bad_input(svc: Services) -> None:
    _seed(svc)
    c = client(svc, "root")
    body = c.get("/admin/audit?user=alice&customer=3301000001&action=document_view"
                 "&size=3").get_data(as_text=True)
    # alice has the odd i; customer 3301000001 is i % 3 == 1: i in 1, 7, 13, 19, 25
    assert "共 5 条" in body and body.count("<tr><td>") == 3 and "2 / 2" not in body
    assert "1 / 2" in body and "page=2" in body
    period = c.get("/admin/audit?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    # 16:30 UTC on 1 March is 00:30 on 2 March in Shanghai
    assert "共 1 条" in period and "2026-03-02T00:30:00+08:00" in period
    for url, field in (("/admin/audit?size=500", "size"), ("/admin/audit?size=x", "size"),
                       ("/admin/audit?from=yesterday", "from"),
                       ("/admin/audit?from=2026-03-02&to=2026-03-01", "to"),
                       ("/admin/audit?page=0", "page")):
        res = c.get(url)
        assert res.status_code == 400 and field in res.get_data(as_text=True), url


def test_csv_export_for_excel(svc: Services) -> None:
    _seed(svc)
    res = client(svc, "root").get("/admin/audit.csv?customer=3301000001&from=2026-03-02"
                                  "&to=2026-03-02")
    assert res.status_code == 200 and res.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = res.data.decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw[1:])))
    assert rows[0][:4] == ["序号", "时间", "用户", "操作代码"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["时间"] == "2026-03-02T00:30:00+08:00" and row["操作"] == "下载原件"
    assert row["详情"].startswith("'=")  # never a live formula in Excel
    # Viewing and exporting the log are audited too.
    with svc.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "root")).all()
    assert "audit_export" in actions
