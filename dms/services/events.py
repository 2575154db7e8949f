"""Inbound business events from the marketing system: tokens, idempotent receipt, import.

Every event is kept in ``inbound_events``: accepted ones make delivery idempotent
(the same ``event_id`` from the same system twice changes nothing); rejected ones are
kept with their error for inspection, in a transaction of their own so the rejection
survives the rollback of the event's work.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dms.db.models_lifecycle import InboundEvent
from dms.db.session import session_scope
from dms.domain.lifecycle import StepEvent, parse_step_event
from dms.errors import ConflictError, DmsError, InvalidInputError
from dms.services.container import Services
from dms.services.lifecycle import apply_step_event, calendar_for
from dms.services.tokens import TokenAuthError, authenticate, create_token


# The events API's tokens are the one token table's "system" kind (dms.services.tokens).
SystemAuthError = TokenAuthError


def create_system_token(services: Services, system: str) -> str:
    """A new token for ``system`` (replacing its old one); only the hash is stored."""
    return create_token(services, "system", system)[1]


def authenticate_system(services: Services, token: str) -> str:
    """The name of the system a bearer token belongs to (a station's token is refused)."""
    return authenticate(services, token, "system").name


@dataclass(frozen=True)
class Receipt:
    status: str  # accepted | duplicate
    event_id: str
    business_no: str
    state: str
    documents: list[str]
    present: list[str]
    task_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _storable(value: Any) -> Any:
    """The rejected payload as it can be kept: NUL and unpaired surrogates (which the
    database refuses, and which are why it was rejected) replaced (U+FFFD, "?"), NaN and
    Infinity as text."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and Infinity are not JSON
    return value


def keep_rejected(services: Services, system: str, payload: Any, channel: str,
                   exc: DmsError) -> None:
    p = _storable(payload if isinstance(payload, dict) else {"raw": payload})
    with session_scope(services.sessions) as s:
        s.add(InboundEvent(system=system, event_id=str(p.get("event_id") or "")[:128],
                           status="rejected", error_code=exc.code, error=_storable(str(exc)),
                           channel=channel, business_no=str(p.get("business_no") or "")[:32],
                           step=str(p.get("step") or "")[:32], payload=p,
                           received_at=datetime.now(UTC)))


def receive_event(services: Services, system: str, payload: Any, *, channel: str = "api",
                  now: datetime | None = None) -> Receipt:
    """Validate and apply one event; raises a DmsError (4xx) after keeping a rejection."""
    now = now or datetime.now(UTC)
    cal = calendar_for(services.settings)
    try:
        ev = parse_step_event(payload, default_tz=cal.tz)
        key = f"{system}:{ev.event_id}"
        for attempt in (1, 2):
            try:
                return _apply_once(services, system, payload, ev, key, channel, now)
            except IntegrityError:
                # A concurrent delivery of the same event won the race (that one counts),
                # or a concurrent event created the same new customer, business or
                # external handler first: applying again finds those.
                with services.sessions() as s:
                    if s.scalar(select(InboundEvent.id).where(
                            InboundEvent.accepted_key == key)) is not None:
                        return Receipt("duplicate", ev.event_id, ev.business_no, "", [], [],
                                       None)
                if attempt == 2:
                    raise ConflictError(f"event {ev.event_id} collided twice with concurrent "
                                        "events", hint="send it again") from None
        raise AssertionError("unreachable")
    except DmsError as exc:
        keep_rejected(services, system, payload, channel, exc)
        raise


def _apply_once(services: Services, system: str, payload: Any, ev: StepEvent, key: str,
                channel: str, now: datetime) -> Receipt:
    with session_scope(services.sessions) as s:
        seen = s.scalar(select(InboundEvent).where(InboundEvent.accepted_key == key))
        if seen is not None:
            if seen.payload != payload:
                raise ConflictError(f"event {ev.event_id} was already received with "
                                    "different content", hint="use a new event_id")
            return Receipt("duplicate", ev.event_id, seen.business_no, "", [], [], None)
        applied = apply_step_event(s, services.checklist, calendar_for(services.settings), ev,
                                   now=now, system=system)
        s.add(InboundEvent(system=system, event_id=ev.event_id, accepted_key=key,
                           status="accepted", channel=channel, business_no=ev.business_no,
                           step=ev.step, payload=payload, received_at=now))
        s.flush()
    return Receipt("accepted", ev.event_id, applied.business_no, applied.state,
                   applied.documents, applied.present, applied.task_id)


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def read_events_file(path: Path) -> list[dict[str, Any]]:
    """Events from a JSON file (a list, or {"events": [...]}), JSON lines, or a CSV with a
    header row of the event fields."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text (byte {exc.start}: "
                                f"{exc.object[exc.start:exc.start + 4]!r})",
                                hint="导出为 UTF-8 编码 / export the file as UTF-8") from None
    if path.suffix.lower() == ".csv":
        return [dict(r) for r in csv.DictReader(text.splitlines())]
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} is neither JSON, JSON lines nor CSV: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        data = data["events"]
    if not isinstance(data, list):
        raise InvalidInputError(f"{path} must hold a list of events")
    return data


def import_events(services: Services, path: Path, *, system: str = "import") -> ImportReport:
    """Back-fill history: events are applied in completion order, each on its own."""
    events = read_events_file(path)
    events.sort(key=lambda e: str(e.get("completed_at", "")) if isinstance(e, dict) else "")
    report = ImportReport()
    for i, payload in enumerate(events, 1):
        try:
            r = receive_event(services, system, payload, channel="import")
        except DmsError as exc:
            report.rejected += 1
            event_id = payload.get("event_id", "?") if isinstance(payload, dict) else "?"
            report.errors.append(_storable(f"#{i} {event_id}: {exc}"))  # printable too
            continue
        if r.status == "duplicate":
            report.duplicates += 1
        else:
            report.accepted += 1
    return report
