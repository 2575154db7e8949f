"""The maintained gap table never goes stale: every kind of change updates it in the
committing transaction, a change it cannot follow keeps reports on the live rows, and a
rebuild gives the same rows as the computation from scratch."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dms.cli import cli
from dms.db.migrate import upgrade
from dms.db.models import Business, BusinessStepDone, Document
from dms.db.models_gaps import GapDirty, GapPair
from dms.db.session import session_scope
from dms.services import gap_table
from dms.services.classification import confirm_type
from dms.services.container import Services, build_services
from dms.services.document_deletion import delete_document
from dms.services.gap_report import GapFilter, gap_csv_chunks, gap_rows
from dms.services.statistics import completeness
from dms.settings import load_settings
from dms.testing.postgres import ThrowawayPostgres
from tests.reports import test_csv_export
from tests.reports.conftest import T0, business, doc, hours, team
from tests.reports.test_web_cli import sqlite_svc  # noqa: F401  (fixture)

BELOW = 0.6
FILTERS = (GapFilter(), GapFilter(team="YYB"), GapFilter(customer_no="3300000001"),
           GapFilter(only_gaps=True), GapFilter(teams=("YYB", 'D,K"H')),
           GapFilter(business_type="SUSPEND"))


def _table(s: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in s.execute(select(
        GapPair.business_id, GapPair.ord, GapPair.doc_type, GapPair.doc_name, GapPair.rank,
        GapPair.document_id, GapPair.confidence, GapPair.required_since, GapPair.csv_tail)
        .order_by(GapPair.business_id, GapPair.ord))]


def _pair(s: Session, b: Business, doc_type: str) -> tuple[int, int | None] | None:
    row = s.execute(select(GapPair.rank, GapPair.document_id).where(
        GapPair.business_id == b.id, GapPair.doc_type == doc_type)).first()
    return None if row is None else (row[0], row[1])


def _csv(svc: Services, f: GapFilter, source: str) -> str:
    with session_scope(svc.sessions) as s:
        return "".join(gap_csv_chunks(s, svc.checklist, BELOW, f, source=source))


def assert_table_is_live(svc: Services) -> None:
    """Fresh, and every report from the table equals the one computed from scratch."""
    with session_scope(svc.sessions) as s:
        assert gap_table.is_fresh(s, svc.checklist, BELOW)
        for f in FILTERS:
            assert (list(gap_rows(s, svc.checklist, BELOW, f, source="table"))
                    == list(gap_rows(s, svc.checklist, BELOW, f, source="live"))), f
        for group in ("team", "handler", "business_type", "month"):
            table, live = ([completeness(s, svc.checklist, BELOW, group_by=group,
                                         now=T0 + hours(24 * 30), f=GapFilter(team="YYB"),
                                         source=source)]
                           for source in ("table", "live"))
            assert table == live, group
    for f in FILTERS:
        assert _csv(svc, f, "table") == _csv(svc, f, "live"), f


@pytest.fixture
def built(svc: Services) -> Services:
    with session_scope(svc.sessions) as s:
        test_csv_export._fill(s)
    assert_table_is_live(svc)  # a small database: built by its first commit
    with session_scope(svc.sessions) as s:
        assert gap_table.rebuild(s, svc.checklist, BELOW) > 0
    assert_table_is_live(svc)
    return svc


def test_a_large_database_waits_for_the_rebuild(svc: Services,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gap_table, "MAX_REFRESH", 2)
    with session_scope(svc.sessions) as s:
        test_csv_export._fill(s)  # three businesses
    with session_scope(svc.sessions) as s:
        assert not gap_table.is_fresh(s, svc.checklist, BELOW)
        live = list(gap_rows(s, svc.checklist, BELOW))
        assert gap_table.rebuild(s, svc.checklist, BELOW) == len(live)
    assert_table_is_live(svc)


def test_each_kind_of_change_updates_the_table(built: Services) -> None:
    svc, cl = built, built.checklist
    with session_scope(svc.sessions) as s:
        t = team(s, "YYB2")
        b = business(s, t, "SUSPEND", customer_no="3300000077")  # BGSQ, SFZM, KCD
        bid = b.id
    with session_scope(svc.sessions) as s:  # a new business: its pairs, all missing
        assert [r[0] for r in s.execute(select(GapPair.rank).where(
            GapPair.business_id == bid))] == [0] * len(cl.required_for("SUSPEND"))
        b = s.get(Business, bid)
        assert b is not None
        added = doc(s, b, "BGSQ")
        wrong = doc(s, b, "YYZZ", confirmed=False, confidence=0.4)  # really an ID card
        added_id, wrong_id = added.id, wrong.id
    assert_table_is_live(svc)
    with session_scope(svc.sessions) as s:  # document added
        b = s.get(Business, bid)
        assert b is not None
        assert _pair(s, b, "BGSQ") == (3, added_id)
        assert _pair(s, b, "SFZM") == (0, None)
        confirm_type(s, svc, wrong_id, "SFZM", actor="archivist", reason="身份证复印件")
    assert_table_is_live(svc)
    with session_scope(svc.sessions) as s:  # type confirmed after a correction
        b = s.get(Business, bid)
        assert b is not None
        assert _pair(s, b, "SFZM") == (3, wrong_id)
        delete_document(s, svc, added_id, actor="admin", reason="重复")
    assert_table_is_live(svc)
    with session_scope(svc.sessions) as s:  # document deleted (a Core DELETE)
        b = s.get(Business, bid)
        assert b is not None
        assert _pair(s, b, "BGSQ") == (0, None)
        b.business_type, b.agent_applied = "TRANSFER", True  # type and conditional flag
    assert_table_is_live(svc)
    with session_scope(svc.sessions) as s:
        b = s.get(Business, bid)
        assert b is not None
        assert [r[0] for r in s.execute(select(GapPair.doc_type).where(
            GapPair.business_id == bid).order_by(GapPair.ord))] == cl.required_for(
                "TRANSFER", agent=True)
        s.add(BusinessStepDone(business_id=bid, step="accept", completed_at=T0 + hours(5)))
    assert_table_is_live(svc)  # a completed step: only that step's types are required
    with session_scope(svc.sessions) as s:
        assert {r[0] for r in s.execute(select(GapPair.doc_type).where(
            GapPair.business_id == bid))} == set(cl.required_for("TRANSFER", {"accept"},
                                                                 agent=True))
        doc_ids = list(s.scalars(select(Document.id).where(Document.business_id == bid)))
        for doc_id in doc_ids:
            delete_document(s, svc, doc_id, actor="admin")
        s.execute(BusinessStepDone.__table__.delete().where(
            BusinessStepDone.business_id == bid))
        s.delete(s.get(Business, bid))
    assert_table_is_live(svc)  # business deleted: its pairs are gone
    with session_scope(svc.sessions) as s:
        assert s.scalar(select(GapPair.business_id).where(GapPair.business_id == bid)) is None
        assert s.scalar(select(GapDirty.business_id)) is None


def test_a_change_it_cannot_follow_keeps_reports_live(built: Services) -> None:
    """Raw SQL from outside dms services: the trigger marks the business, reports compute
    from the live rows (still right), and the next dms commit catches the table up."""
    svc = built
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET type_confirmed = :yes, type_confidence = 0.99 "
                          "WHERE doc_type = 'SFZM'"), {"yes": True})
    with session_scope(svc.sessions) as s:
        assert not gap_table.is_fresh(s, svc.checklist, BELOW)
        sfzm = [r for r in gap_rows(s, svc.checklist, BELOW)
                if r["doc_type"] == "SFZM" and r["document_id"] is not None]
        assert sfzm and all(r["status"] == "confirmed" for r in sfzm)
        with pytest.raises(Exception, match="not up to date"):
            list(gap_rows(s, svc.checklist, BELOW, source="table"))
    with session_scope(svc.sessions) as s:
        team(s, "ANY")  # any commit of a dms session refreshes the marked businesses
    assert_table_is_live(svc)


def test_another_checklist_or_threshold_is_not_read_from_the_table(built: Services) -> None:
    svc = built
    with session_scope(svc.sessions) as s:
        assert not gap_table.is_fresh(s, svc.checklist, 0.5)
        assert (list(gap_rows(s, svc.checklist, 0.5))
                == list(gap_rows(s, svc.checklist, 0.5, source="live")))


def test_rebuild_gives_the_rows_the_maintenance_gave(built: Services) -> None:
    svc = built
    with session_scope(svc.sessions) as s:  # maintained through a series of changes
        t = team(s, "YYB3")
        for btype in svc.checklist.business_types:
            b = business(s, t, btype, agent=True, steps={"accept": T0 + hours(3)})
            for code in svc.checklist.required_for(btype, agent=True)[::2]:
                doc(s, b, code, confirmed=False, confidence=0.7)
    with session_scope(svc.sessions) as s:
        for d in s.scalars(select(Document).where(Document.type_confidence == 0.7)).all()[::3]:
            confirm_type(s, svc, d.id, d.doc_type or "", actor="archivist")
    with session_scope(svc.sessions) as s:
        maintained = _table(s)
        gap_table.rebuild(s, svc.checklist, BELOW)
        assert _table(s) == maintained
    assert_table_is_live(svc)


@pytest.mark.postgres
def test_sqlite_and_postgres_write_the_same_csv_from_the_table(
        tmp_path: Path, postgres: ThrowawayPostgres) -> None:
    made = []
    for url in (f"sqlite:///{tmp_path / 'c.sqlite'}", postgres.create_database("tablecsv")):
        upgrade(url)
        svc = build_services(load_settings(data_dir=tmp_path / "var", database_url=url,
                                           secret_key="test", _env_file=None))
        with session_scope(svc.sessions) as s:
            test_csv_export._fill(s)
            gap_table.rebuild(s, svc.checklist, BELOW)
        made.append(svc)
    lite, pg = made
    try:
        for f in FILTERS:
            assert _csv(lite, f, "table") == _csv(pg, f, "table") == _csv(pg, f, "live"), f
    finally:
        for svc in made:
            svc.close()


def test_concurrent_commits_on_one_business_both_count(built: Services) -> None:
    """Two transactions add documents to one business: the second's refresh waits for the
    first's commit and recomputes with both documents (neither view overwrites)."""
    svc = built
    with session_scope(svc.sessions) as s:
        bid = business(s, team(s, "YYB4"), "SUSPEND").id
    first, second = svc.sessions(), svc.sessions()
    b1 = first.get(Business, bid)
    assert b1 is not None
    doc(first, b1, "BGSQ")  # flushed: the business is marked, uncommitted
    done: list[BaseException | None] = []

    def commit_second() -> None:
        try:
            b2 = second.get(Business, bid)
            assert b2 is not None
            doc(second, b2, "KCD")
            second.commit()
            done.append(None)
        except BaseException as e:  # reported by the main thread
            done.append(e)

    worker = threading.Thread(target=commit_second)
    worker.start()
    worker.join(1.0)
    first.commit()
    worker.join(60)
    first.close()
    second.close()
    assert done == [None]
    with session_scope(svc.sessions) as s:
        assert {r[0]: r[1] for r in s.execute(select(GapPair.doc_type, GapPair.rank).where(
            GapPair.business_id == bid))} == {"BGSQ": 3, "SFZM": 0, "KCD": 3}
    assert_table_is_live(svc)


def test_cli_rebuild_then_report_from_the_table(sqlite_svc: Services) -> None:  # noqa: F811
    runner = CliRunner()
    before = runner.invoke(cli, ["report", "gaps", "--all", "--format", "csv"])
    assert before.exit_code == 0, before.output
    r = runner.invoke(cli, ["report", "gaps", "--rebuild"])
    assert r.exit_code == 0, r.output
    assert "rebuilt: 6 (business, type) pairs" in r.output
    with session_scope(sqlite_svc.sessions) as s:
        assert gap_table.is_fresh(s, sqlite_svc.checklist,
                                  sqlite_svc.settings.classify_review_below)
    after = runner.invoke(cli, ["report", "gaps", "--all", "--format", "csv", "--rebuild"])
    assert after.exit_code == 0, after.output
    assert after.output.split("\n", 1)[1] == before.output  # stderr line, then same CSV


def test_db_upgrade_rebuilds_a_stale_table_once(sqlite_svc: Services,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gap_table, "MAX_REFRESH", 0)  # a large database: no rebuild at commit
    runner = CliRunner()
    assert runner.invoke(cli, ["report", "gaps", "--rebuild"]).exit_code == 0
    with sqlite_svc.sessions() as s:  # as a checklist change or an old database leaves it
        s.execute(text("DELETE FROM gap_state"))
        s.commit()
    with session_scope(sqlite_svc.sessions) as s:
        assert not gap_table.is_fresh(s, sqlite_svc.checklist, BELOW)
    first = runner.invoke(cli, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "gap table rebuilt: 6 (business, type) pairs" in first.output
    with session_scope(sqlite_svc.sessions) as s:
        assert gap_table.is_fresh(s, sqlite_svc.checklist, BELOW)
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and "rebuilt" not in again.output
