"""The audit log is a hash chain: verify passes on an honest log, and names the first
broken entry after rows are edited, deleted, reordered or inserted behind its back."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from dms.db import audit
from dms.db.migrate import upgrade
from dms.db.models import AuditEvent
from dms.db.session import make_engine, make_session_factory, session_scope
from dms.domain.audit import entry_fields, entry_hash
from tests.audit.conftest import append, tamper


def _verdict(factory: sessionmaker[Session]) -> audit.Verdict:
    with factory() as s:
        return audit.verify(s)


def test_honest_log_verifies_and_every_field_is_covered(factory: sessionmaker[Session]) -> None:
    append(factory, 5)
    with session_scope(factory) as s:
        # Several entries in one transaction, one with a time in another zone and data
        # that JSON changes (int keys): stored values are what gets hashed.
        audit.record(s, actor="bob", action="search", entity="search", entity_id="",
                     data={1: "x", "when": datetime(2026, 1, 1, tzinfo=UTC)})
        s.add(AuditEvent(at=datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))),
                         actor="h", action="transition", entity="business", entity_id="B1"))
    v = _verdict(factory)
    assert v.broken is None and v.checked == 7 and v.head.seq == 7
    with factory() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 8))
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0].customer_no == "3301000000" and rows[0].remote_addr == "10.0.0.7"


def test_concurrent_writers_do_not_fork_the_chain(engine: Engine,
                                                  factory: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            append(factory, 15, actor=name)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    v = _verdict(factory)
    assert v.broken is None and v.checked == 60
    with factory() as s:
        seqs = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, 61))


def test_database_refuses_update_and_delete(engine: Engine, factory: sessionmaker[Session]
                                            ) -> None:
    append(factory, 2)
    for stmt in ("UPDATE audit_events SET reason = 'x' WHERE seq = 1",
                 "DELETE FROM audit_events WHERE seq = 2"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(stmt))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE audit_events"))
    assert _verdict(factory).broken is None


@pytest.mark.parametrize("statements, seq, kind", [
    (["UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 4"], 4, "edited"),
    (["UPDATE audit_events SET actor = 'mallory' WHERE seq = 1"], 1, "edited"),
    (["UPDATE audit_events SET at = '2020-01-01 00:00:00' WHERE seq = 6"], 6, "edited"),
    (["DELETE FROM audit_events WHERE seq = 3"], 3, "deleted"),
    (["DELETE FROM audit_events WHERE seq >= 7"], 7, "truncated"),
    (["UPDATE audit_events SET seq = -1 WHERE seq = 5",
      "UPDATE audit_events SET seq = 5 WHERE seq = 6",
      "UPDATE audit_events SET seq = 6 WHERE seq = -1"], 5, "reordered"),
])
def test_tampering_is_found_at_the_first_broken_entry(
        engine: Engine, factory: sessionmaker[Session], statements: list[str], seq: int,
        kind: str) -> None:
    append(factory, 8)
    assert _verdict(factory).broken is None
    tamper(engine, *statements)
    broken = _verdict(factory).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (seq, kind), broken.message
    assert f"#{seq}" in broken.message


def _forge_after(engine: Engine, factory: sessionmaker[Session], seq: int) -> None:
    """Insert a well-formed entry (correct hash and link) without moving the head."""
    with factory() as s:
        last = s.scalar(select(AuditEvent).where(AuditEvent.seq == seq - 1))
        assert last is not None
        fields = {c: getattr(last, c) for c in ("at", "actor", "action", "entity", "entity_id",
                                                "from_state", "to_state", "reason", "data",
                                                "customer_no", "remote_addr")}
    fields.update(seq=seq, actor="mallory", data={})
    digest = entry_hash(last.hash, entry_fields(fields))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_events (at, actor, action, entity, entity_id, from_state, "
            "to_state, reason, data, customer_no, remote_addr, seq, prev_hash, hash) VALUES "
            "(:at, 'mallory', :action, :entity, :eid, '', '', '', '{}', :cno, :ra, :seq, "
            ":prev, :hash)"), dict(at=fields["at"], action=fields["action"],
                                   entity=fields["entity"], eid=fields["entity_id"],
                                   cno=fields["customer_no"], ra=fields["remote_addr"],
                                   seq=seq, prev=last.hash, hash=digest))


def test_an_inserted_entry_is_found_even_with_a_correct_hash(
        engine: Engine, factory: sessionmaker[Session]) -> None:
    append(factory, 4)
    _forge_after(engine, factory, 5)
    broken = _verdict(factory).broken
    assert broken is not None and (broken.seq, broken.kind) == (5, "inserted"), broken


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(
        engine: Engine, factory: sessionmaker[Session]) -> None:
    append(factory, 5)
    with factory() as s:
        ev = s.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
        assert ev is not None
        fields = entry_fields({**{c: getattr(ev, c) for c in (
            "seq", "at", "action", "entity", "entity_id", "from_state", "to_state", "reason",
            "data", "customer_no", "remote_addr")}, "actor": "mallory"})
    new_hash = entry_hash(ev.prev_hash, fields)
    tamper(engine, f"UPDATE audit_events SET actor = 'mallory', hash = '{new_hash}' "
                   "WHERE seq = 2")
    broken = _verdict(factory).broken
    assert broken is not None and broken.seq == 3 and "#2" in broken.message, broken


def test_upgrade_chains_the_entries_written_before_it(database_url: str) -> None:
    upgrade(database_url, "0050")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(text(
                "INSERT INTO audit_events (at, actor, action, entity, entity_id, from_state, "
                "to_state, reason, data) VALUES (:at, 'h', 'transition', 'business', :e, "
                "'pending_add', 'pending_send', '', '{\"n\": 1}')"),
                {"at": datetime(2025, 5, 1, 8, i, tzinfo=UTC), "e": f"B{i}"})
    upgrade(database_url)
    factory = make_session_factory(engine)
    append(factory, 2)
    v = _verdict(factory)
    assert v.broken is None and v.checked == 5
    engine.dispose()
