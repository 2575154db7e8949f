"""Upgrades: a database built and populated at the previous release's schema (revision
0050, the merge of the eight early branches) is upgraded to head and keeps every row;
`dms db downgrade -1` / upgrade and the `alembic` command line work."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, Integer, MetaData, String, Table,
                        func, inspect, select, text)
from sqlalchemy.engine import Connection

from dms.db.migrate import current_heads, upgrade
from dms.db.models import Document
from dms.db.session import make_engine, make_session_factory
from dms.services.fsck import FINISHED

PREVIOUS_RELEASE = "0050"
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def _filler(col: Any) -> Any:
    t = col.type
    for kind, value in ((Boolean, False), (Integer, 0), (Float, 0.0), (DateTime, NOW),
                        (Date, NOW.date()), (JSON, {}), (String, "")):
        if isinstance(t, kind):
            return value
    return ""


def _insert(conn: Connection, meta: MetaData, table: str, **values: Any) -> int:
    """Insert through the schema as it is at this revision (reflected), filling the
    NOT NULL columns a row of that time would have had with their plain defaults."""
    tbl: Table = meta.tables[table]
    for col in tbl.columns:
        if (col.name not in values and not col.nullable and not col.primary_key
                and col.server_default is None):
            values[col.name] = _filler(col)
    res = conn.execute(tbl.insert().values(**values))
    return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0


def _populate_previous_release(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    meta = MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        team = _insert(conn, meta, "teams", code="YYB", name="营业班")
        _insert(conn, meta, "users", username="handler", display_name="经办人",
                password_hash="x", role="handler", team_id=team, active=True)
        cust = _insert(conn, meta, "customers", customer_no="3301000001", name="张三",
                       team_id=team, created_at=NOW)
        biz = _insert(conn, meta, "businesses", business_no="YK2026000001", customer_id=cust,
                      business_type="LV_RES_NEW", team_id=team, archive_state="pending_send",
                      state_since=NOW, created_at=NOW)
        docs = []
        for n in range(3):
            doc = _insert(conn, meta, "documents", sha256=f"{n:x}" * 64, customer_id=cust,
                          business_id=biz, doc_type="GYDHT", source_name=f"合同{n}.pdf",
                          mime="application/pdf", size_bytes=1000 + n,
                          original_key=f"originals/{n}", page_count=1, ocr_status="done",
                          facts={"contract_no": f"HT-{n}"}, created_at=NOW, updated_at=NOW)
            _insert(conn, meta, "pages", document_id=doc, page_no=1, image_key=f"pages/{n}/1",
                    text=f"供用电合同 第{n}份", ocr_status="done", confidence=91.5)
            docs.append(doc)
        _insert(conn, meta, "audit_events", at=NOW, actor="system", action="ocr_finished",
                entity="document", entity_id=str(docs[0]), data={"status": "done"})
    engine.dispose()
    return {"documents": docs, "customer": cust}


def _check_after_upgrade(url: str, before: dict[str, Any]) -> None:
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        docs = list(s.scalars(select(Document).order_by(Document.id)))
        assert [d.id for d in docs] == before["documents"]
        for n, d in enumerate(docs):
            assert d.facts == {"contract_no": f"HT-{n}"} and d.size_bytes == 1000 + n
            assert d.pages[0].text == f"供用电合同 第{n}份" and d.pages[0].confidence == 91.5
            assert d.original_state == "ok" and d.ocr_status in FINISHED  # new column default
            assert d.customer.name == "张三" and d.business is not None
            assert d.business.archive_state == "pending_send"
        assert s.scalar(text("SELECT count(*) FROM audit_events")) == 1
    engine.dispose()


def _revision(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(rev)


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")}
    env["DMS_DATABASE_URL"] = url
    proc = subprocess.run(list(args), env=env, cwd=ROOT, text=True, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_upgrade_from_previous_release_keeps_the_data(database_url: str) -> None:
    upgrade(database_url, PREVIOUS_RELEASE)
    before = _populate_previous_release(database_url)
    head = current_heads()[0]
    _cli(database_url, sys.executable, "-m", "dms", "db", "upgrade")
    assert _revision(database_url) == head
    _check_after_upgrade(database_url, before)

    # One step down and up again, by `dms db` and by the alembic command line.
    _cli(database_url, sys.executable, "-m", "dms", "db", "downgrade", "-1")
    assert _revision(database_url) != head
    _cli(database_url, sys.executable, "-m", "alembic", "upgrade", "head")
    assert _revision(database_url) == head
    _cli(database_url, sys.executable, "-m", "alembic", "downgrade", "-1")
    _cli(database_url, sys.executable, "-m", "dms", "db", "upgrade")
    assert _revision(database_url) == head
    _check_after_upgrade(database_url, before)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert "worker_heartbeats" in inspect(conn).get_table_names()
        assert conn.execute(select(func.count()).select_from(
            Table("documents", MetaData(), autoload_with=conn))).scalar() == 3
    engine.dispose()
