"""The append-only, hash-chained audit log.

``record`` adds an entry to the caller's session; when the session flushes, the new
entries are chained (dms.domain.audit) under a lock on the one ``audit_chain_head`` row:
``UPDATE … RETURNING`` takes PostgreSQL's row lock or SQLite's write lock, so concurrent
writers queue behind each other and never fork the chain; the lock is held until the
writer commits. The database refuses UPDATE and DELETE of entries (triggers from
migration 0053; ``harden`` also revokes the rights on PostgreSQL); the ORM guard below
reports the attempt early with a typed error.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dms.db.models import AuditEvent, utcnow
from dms.domain.audit import (CHAINED_FIELDS, ChainBreak, ChainEntry, ChainHead, entry_fields,
                              entry_hash, find_break)
from dms.errors import ConfigError, ConflictError, InvalidInputError


def record(session: Session, *, actor: str, action: str, entity: str, entity_id: object,
           from_state: str = "", to_state: str = "", reason: str = "",
           data: dict[str, Any] | None = None, customer_no: str = "",
           remote_addr: str = "") -> AuditEvent:
    ev = AuditEvent(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                    from_state=from_state, to_state=to_state, reason=reason, data=data or {},
                    customer_no=customer_no or "", remote_addr=remote_addr or "")
    session.add(ev)
    return ev


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper: Any, _conn: Any, target: AuditEvent) -> None:
    raise ConflictError(f"audit event {target.id} is append-only")


# --- chaining ------------------------------------------------------------------------------

def _as_stored(ev: AuditEvent, now: datetime) -> None:
    """Give every hashed field the value the database will hand back: UTC time, strings
    for NULL defaults, data as JSON would return it."""
    at = ev.at or now
    ev.at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    for name in ("from_state", "to_state", "reason", "customer_no", "remote_addr"):
        if getattr(ev, name) is None:
            setattr(ev, name, "")
    ev.data = json.loads(json.dumps(ev.data or {}, ensure_ascii=False, default=str))


def _lock_head(conn: Connection, n: int) -> tuple[int, str]:
    row = conn.execute(text("UPDATE audit_chain_head SET seq = seq + :n WHERE id = 1 "
                            "RETURNING seq, hash"), {"n": n}).one_or_none()
    if row is None:
        raise ConfigError("the audit log has no chain head", hint="run: dms db upgrade")
    return int(row[0]) - n, str(row[1])


@event.listens_for(Session, "before_flush")
def _chain(session: Session, _ctx: Any, _instances: Any) -> None:
    new = [o for o in session.new if isinstance(o, AuditEvent)]
    if not new:
        return
    # In the order they were added, which is also the order the flush inserts them, so
    # row ids grow with the sequence number (verify relies on it to spot reordering).
    new.sort(key=lambda o: inspect(o).insert_order or 0)
    seq, prev = _lock_head(session.connection(), len(new))
    now = utcnow()
    for ev in new:
        seq += 1
        _as_stored(ev, now)
        ev.seq = seq
        ev.prev_hash = prev
        ev.hash = prev = entry_hash(prev, entry_fields(
            {c: getattr(ev, c) for c in CHAINED_FIELDS}))
    session.connection().execute(text("UPDATE audit_chain_head SET hash = :h WHERE id = 1"),
                                 {"h": prev})


# --- verification --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    checked: int
    head: ChainHead
    broken: ChainBreak | None


def _head(session: Session) -> ChainHead:
    row = session.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).one_or_none()
    if row is None:
        raise ConfigError("the audit log has no chain head", hint="run: dms db upgrade")
    return ChainHead(int(row[0]), str(row[1]))


def _entries(session: Session) -> Iterator[ChainEntry]:
    rows = session.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)
                           .execution_options(yield_per=2000)).mappings()
    for r in rows:
        yield ChainEntry(r["id"], r["seq"], r["prev_hash"], r["hash"], entry_fields(dict(r)))


def verify(session: Session) -> Verdict:
    """Walk the whole chain; the first broken entry, if any. Appends may go on meanwhile."""
    before = _head(session)
    after: list[ChainHead] = []

    def read_after() -> ChainHead:
        after.append(_head(session))
        return after[-1]

    checked, broken = find_break(_entries(session), before, read_after)
    return Verdict(checked, after[-1] if after else before, broken)


# --- database rights -----------------------------------------------------------------------

def harden(conn: Connection, role: str) -> list[str]:
    """Revoke the application role's right to change or remove audit entries (PostgreSQL);
    it keeps SELECT and INSERT, and UPDATE of the chain-head row appends need. Returns the
    statements run. Run it as the tables' owner; the role must not own them (an owner can
    grant itself the rights back)."""
    if conn.dialect.name != "postgresql":
        raise InvalidInputError("role: harden-audit applies to PostgreSQL only; on SQLite "
                                "the triggers of migration 0053 refuse UPDATE and DELETE")
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        raise InvalidInputError(f"role: no PostgreSQL role named {role!r}")
    owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = "
                              "'audit_events'")).scalar()
    if owner == role:
        raise InvalidInputError(f"role: {role!r} owns audit_events; migrate as another role "
                                "and run the application as this one")
    q = conn.dialect.identifier_preparer.quote(role)
    statements = [
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {q}",
        f"REVOKE DELETE, TRUNCATE ON audit_chain_head FROM {q}",
        f"GRANT SELECT, INSERT ON audit_events TO {q}",
        f"GRANT SELECT, UPDATE ON audit_chain_head TO {q}",
        f"GRANT USAGE ON SEQUENCE audit_events_id_seq TO {q}",
    ]
    for stmt in statements:
        conn.execute(text(stmt))
    return statements
