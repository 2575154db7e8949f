"""`dms audit verify|list|export` and `dms db harden-audit` as an operator runs them, and
the CLI's own reads (reports, labels) leave audit entries."""
from __future__ import annotations

import csv
import getpass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from dms.cli import cli
from dms.db import audit
from dms.db.models import AuditEvent
from dms.db.session import make_engine, make_session_factory
from dms.errors import InvalidInputError
from dms.testing.postgres import ThrowawayPostgres
from tests.audit.conftest import append, tamper


def run(tmp_path: Path, url: str, *args: str) -> Result:
    env = {"DMS_DATA_DIR": str(tmp_path / "var"), "DMS_DATABASE_URL": url,
           "DMS_SECRET_KEY": "cli"}
    return CliRunner().invoke(cli, list(args), env=env)


def test_verify_list_and_export(tmp_path: Path, database_url: str, engine: Engine,
                                factory: sessionmaker[Session]) -> None:
    append(factory, 5)
    ok = run(tmp_path, database_url, "audit", "verify")
    assert ok.exit_code == 0 and "intact: 5 entries, head #5" in ok.output, ok.output
    listed = run(tmp_path, database_url, "audit", "list", "--user", "alice", "--limit", "2",
                 "--customer", "3301000003")
    assert listed.exit_code == 0, listed.output
    assert "#4 " in listed.output and "document_view" in listed.output
    out = tmp_path / "audit.csv"
    exported = run(tmp_path, database_url, "audit", "export", "--since", "2000-01-01",
                   "--until", "2100-12-31", "--format", "csv", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    raw = out.read_text(encoding="utf-8")
    assert raw.startswith("\ufeff序号,时间")
    rows = list(csv.DictReader(raw[1:].splitlines()))
    # five reads, the listing and the export itself (recorded before it runs)
    assert [r["操作代码"] for r in rows] == ["document_view"] * 5 + ["audit_view", "audit_export"]
    assert rows[-1]["用户"] == f"cli:{getpass.getuser()}" and rows[0]["时间"].endswith("+08:00")
    bad = run(tmp_path, database_url, "audit", "export", "--since", "last week")
    assert isinstance(bad.exception, InvalidInputError) and "from" in str(bad.exception)

    tamper(engine, "DELETE FROM audit_events WHERE seq = 3")
    broken = run(tmp_path, database_url, "audit", "verify")
    assert broken.exit_code == 1
    assert "BROKEN at entry #3 (deleted)" in broken.output and "2 entries before" in \
        broken.output


def test_cli_reports_and_labels_are_audited(tmp_path: Path, database_url: str,
                                            factory: sessionmaker[Session]) -> None:
    res = run(tmp_path, database_url, "report", "gaps", "--customer", "3301000009",
              "--format", "csv")
    assert res.exit_code == 0, res.output
    found = run(tmp_path, database_url, "search", "张三", "13812345678")
    assert found.exit_code == 0, found.output
    res = run(tmp_path, database_url, "labels", "boxes", "BX00000001", "-o",
              str(tmp_path / "l.pdf"))
    with factory() as s:
        got = [(e.actor, e.action, e.entity, e.customer_no, e.data) for e in
               s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    me = f"cli:{getpass.getuser()}"
    assert got[0][:4] == (me, "report_export", "gap_report", "3301000009")
    assert got[1] == (me, "search", "search", "", {"q": "张三 138****5678"})
    # An unknown box is refused before anything is printed, so nothing more is recorded.
    assert res.exit_code != 0 and len(got) == 2


@pytest.mark.postgres
def test_harden_revokes_update_and_delete_from_the_app_role(
        tmp_path: Path, postgres: ThrowawayPostgres) -> None:
    from dms.db.migrate import upgrade

    url = postgres.create_database("hardened")
    upgrade(url)
    owner = make_engine(url)
    with owner.begin() as conn:
        conn.execute(text("CREATE ROLE dms_app LOGIN"))
        conn.execute(text("GRANT ALL ON ALL TABLES IN SCHEMA public TO dms_app"))
        conn.execute(text("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO dms_app"))
    nobody = run(tmp_path, url, "db", "harden-audit", "--role", "nobody")
    assert isinstance(nobody.exception, InvalidInputError) and "nobody" in str(nobody.exception)
    res = run(tmp_path, url, "db", "harden-audit", "--role", "dms_app")
    assert res.exit_code == 0, res.output
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM dms_app" in res.output

    app = make_engine(url.replace("//dms@", "//dms_app@"))
    app_sessions = make_session_factory(app)
    append(app_sessions, 3)  # the application still appends (and moves the chain head)
    with owner.begin() as conn:  # only the rights are left to stop it
        conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        conn.execute(text("DROP TRIGGER audit_events_no_truncate ON audit_events"))
    for stmt in ("UPDATE audit_events SET reason = 'x' WHERE seq = 1",
                 "DELETE FROM audit_events WHERE seq = 2", "TRUNCATE audit_events",
                 "DELETE FROM audit_chain_head"):
        with pytest.raises(DatabaseError, match="permission denied"):
            with app.begin() as conn:
                conn.execute(text(stmt))
    with app_sessions() as s:
        v = audit.verify(s)
    assert v.broken is None and v.checked == 3
    app.dispose()
    owner.dispose()
