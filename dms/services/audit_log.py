"""The audit log from the reading side: filters, pages and the CSV export shared by the admin
page and ``dms audit list/export``, and the recording of reads of personal data (web and
CLI). Times are shown in the deployment's zone with their offset (the zone of the
working-day calendar, ``config/holidays.yaml``); they are stored in UTC."""
from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from dms import translations
from dms.db import audit
from dms.db.models import AuditEvent
from dms.domain.audit import ACTION_NAMES_ZH, ENTITY_NAMES_ZH
from dms.domain.lifecycle import STATE_NAMES_ZH
from dms.errors import InvalidInputError
from dms.services.report_formats import csv_lines

MAX_PAGE_SIZE = 200
COLUMNS = ("seq", "at", "actor", "action", "action_name", "entity", "entity_id",
           "customer_no", "remote_addr", "detail", "hash")
HEADINGS_ZH = {"seq": "序号", "at": "时间", "actor": "用户", "action": "操作代码",
               "action_name": "操作", "entity": "对象类型", "entity_id": "对象编号",
               "customer_no": "户号", "remote_addr": "来源地址", "detail": "详情",
               "hash": "哈希"}


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    customer_no: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware


def parse_instant(field: str, value: str, tz: ZoneInfo, *, end: bool = False) -> datetime | None:
    """``2026-12-01`` (a whole day in the deployment's zone; as an end, the day is
    included) or an ISO date-time (without an offset: the deployment's zone)."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if end else 0), time(0), tzinfo=tz)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{field} must be a date like 2026-12-01 or a date-time like "
                                f"2026-12-01T08:30") from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def filter_from(args: Mapping[str, str], tz: ZoneInfo) -> AuditFilter:
    """From the audit page's query string: user, customer, action, from, to."""
    def text(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    f = AuditFilter(actor=text("user"), customer_no=text("customer"), action=text("action"),
                    since=parse_instant("from", args.get("from", ""), tz),
                    until=parse_instant("to", args.get("to", ""), tz, end=True))
    if f.since and f.until and f.since >= f.until:
        raise InvalidInputError("to must be after from")
    return f


def statement(f: AuditFilter) -> Select[AuditEvent]:
    stmt = select(AuditEvent)
    if f.actor:
        stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.customer_no:
        stmt = stmt.where(AuditEvent.customer_no == f.customer_no)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    # Stored UTC (SQLite compares the text, so compare with UTC values).
    if f.since:
        stmt = stmt.where(AuditEvent.at >= f.since.astimezone(UTC))
    if f.until:
        stmt = stmt.where(AuditEvent.at < f.until.astimezone(UTC))
    return stmt


def page_of(session: Session, f: AuditFilter, page: int, size: int
            ) -> tuple[list[AuditEvent], int]:
    """Newest first; ``size`` is bounded by MAX_PAGE_SIZE."""
    if page < 1:
        raise InvalidInputError("page must be 1 or more")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"size must be between 1 and {MAX_PAGE_SIZE}")
    stmt = statement(f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEvent.seq.desc())
                           .offset((page - 1) * size).limit(size)).all()
    return list(rows), total


def local_time(at: datetime, tz: ZoneInfo) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.astimezone(tz).isoformat(timespec="seconds")


def _safe(v: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; search queries and
    reasons are user input."""
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def _state(code: str | None, locale: str) -> str:
    name = STATE_NAMES_ZH.get(code) if code else None  # type: ignore[call-overload]
    return translations.gettext(name, locale) if name else code or ""


def detail(ev: AuditEvent, locale: str = "zh_CN") -> str:
    """From→to state (by name), reason, and the entry's data as JSON."""
    moved = (f"{_state(ev.from_state, locale)}→{_state(ev.to_state, locale)}"
             if ev.from_state or ev.to_state else "")
    parts = [p for p in (moved, ev.reason) if p]
    if ev.data:
        parts.append(json.dumps(ev.data, ensure_ascii=False, sort_keys=True))
    return " ".join(parts)


def _named(table: dict[str, str], code: str, locale: str) -> str:
    return translations.gettext(table[code], locale) if code in table else code


def as_row(ev: AuditEvent, tz: ZoneInfo, locale: str = "zh_CN") -> dict[str, Any]:
    """One entry as the page and the CSV show it: ``action`` stays the code (a column of
    its own); the action's and the object's names, and states, are in ``locale``."""
    return {"seq": ev.seq, "at": local_time(ev.at, tz), "actor": _safe(ev.actor),
            "action": ev.action, "action_name": _named(ACTION_NAMES_ZH, ev.action, locale),
            "entity": _named(ENTITY_NAMES_ZH, ev.entity, locale),
            "entity_id": _safe(ev.entity_id),
            "customer_no": ev.customer_no, "remote_addr": ev.remote_addr,
            "detail": _safe(detail(ev, locale)), "hash": ev.hash}


def csv_chunks(session: Session, f: AuditFilter, tz: ZoneInfo,
               locale: str = "zh_CN") -> Iterator[str]:
    """The whole selection, oldest first, UTF-8 CSV with a BOM and headings in ``locale``."""
    rows = session.scalars(statement(f).order_by(AuditEvent.seq)
                           .execution_options(yield_per=2000))
    yield from csv_lines(COLUMNS, (as_row(ev, tz, locale) for ev in rows),
                         translations.names(HEADINGS_ZH, locale))


def audit_session(sessions: sessionmaker[Session]) -> Session:
    """A plain session on the same database for recording reads: an audit-only
    transaction derives nothing (no gap-table catch-up, no after-commit effects), and
    skipping that halves the cost of an audited read."""
    return Session(bind=sessions.kw["bind"], expire_on_commit=False)


def record_read(sessions: sessionmaker[Session], *, actor: str, action: str, entity: str,
                entity_id: object, customer_no: str = "", remote_addr: str = "",
                data: dict[str, Any] | None = None) -> None:
    """One read of personal data, in its own short transaction (the read itself wrote
    nothing; the chain lock is held only for this append)."""
    with audit_session(sessions) as s:
        add_read(s, actor=actor, action=action, entity=entity, entity_id=entity_id,
                 customer_no=customer_no, remote_addr=remote_addr, data=data)
        s.commit()


def add_read(session: Session, *, actor: str, action: str, entity: str, entity_id: object,
             customer_no: str = "", remote_addr: str = "",
             data: dict[str, Any] | None = None) -> None:
    audit.record(session, actor=actor[:64], action=action, entity=entity,
                 entity_id=str(entity_id)[:64], customer_no=customer_no[:32],
                 remote_addr=remote_addr[:64], data=data)


def cli_actor() -> tuple[str, str]:
    """Who runs a command, and where: ``cli:<os user>``, ``cli@<host>``."""
    return f"cli:{getpass.getuser()}", f"cli@{socket.gethostname()}"


def record_cli_read(sessions: sessionmaker[Session], action: str, entity: str,
                    entity_id: object, *, customer_no: str = "",
                    data: dict[str, Any] | None = None) -> None:
    actor, where = cli_actor()
    record_read(sessions, actor=actor, action=action, entity=entity, entity_id=entity_id,
                customer_no=customer_no, remote_addr=where, data=data)
