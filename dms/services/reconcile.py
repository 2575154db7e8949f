"""Keeping the marketing system and the archive in agreement.

What does not line up is listed for an administrator (the 事件对账 page and
``dms reconcile``): businesses without a type, scanned customers no event has named,
rejected events, and marketing-system handlers not mapped to a dms user. The
administrator resolves a rejected event (apply it with the event's values, or dismiss
it with a reason) and maps external handler ids to users, which assigns their open tasks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import Business, BusinessStepDone, Customer, Document, Task, User
from dms.db.models_events import ExternalHandler
from dms.db.models_lifecycle import InboundEvent
from dms.db.session import session_scope
from dms.domain.lifecycle import parse_step_event
from dms.domain.roles import Role
from dms.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dms.services.container import Services
from dms.services.lifecycle import OPEN, apply_step_event, calendar_for

APPLIED = "applied"
DISMISSED = "dismissed"
LIMIT = 500


@dataclass
class Reconciliation:
    untyped: list[dict[str, Any]] = field(default_factory=list)
    without_events: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {k: [{f: (v.isoformat() if isinstance(v, datetime) else v)
                     for f, v in row.items()} for row in rows]
                for k, rows in self.__dict__.items()}


def require_admin(user: User) -> None:
    if Role(user.role) != Role.ADMIN:
        raise PermissionDeniedError(f"{user.username} ({user.role}) cannot reconcile events")


def reconciliation(session: Session, *, limit: int = LIMIT) -> Reconciliation:
    r = Reconciliation()
    r.untyped = [dict(row) for row in session.execute(
        select(Business.business_no, Customer.customer_no, Customer.name,
               Business.created_at, func.count(Document.id).label("documents"))
        .join(Customer, Customer.id == Business.customer_id)
        .join(Document, Document.business_id == Business.id, isouter=True)
        .where(Business.business_type == "")
        .group_by(Business.id, Business.business_no, Customer.customer_no, Customer.name,
                  Business.created_at)
        .order_by(Business.created_at, Business.id).limit(limit)).mappings()]
    named = select(Business.customer_id).join(
        BusinessStepDone, BusinessStepDone.business_id == Business.id)
    r.without_events = [dict(row) for row in session.execute(
        select(Customer.customer_no, Customer.name, func.count(Document.id).label("documents"),
               func.min(Document.created_at).label("first_scan"))
        .join(Document, Document.customer_id == Customer.id)
        .where(Customer.id.not_in(named))
        .group_by(Customer.id, Customer.customer_no, Customer.name)
        .order_by(Customer.customer_no).limit(limit)).mappings()]
    r.rejected = [dict(row) for row in session.execute(
        select(InboundEvent.id, InboundEvent.system, InboundEvent.event_id,
               InboundEvent.business_no, InboundEvent.step, InboundEvent.error_code,
               InboundEvent.error, InboundEvent.received_at, InboundEvent.payload)
        .where(InboundEvent.status == "rejected", InboundEvent.resolution == "")
        .order_by(InboundEvent.received_at, InboundEvent.id).limit(limit)).mappings()]
    r.unmapped = [dict(row) for row in session.execute(
        select(ExternalHandler.id, ExternalHandler.system, ExternalHandler.external_id,
               ExternalHandler.first_seen_at)
        .where(ExternalHandler.user_id.is_(None))
        .order_by(ExternalHandler.first_seen_at, ExternalHandler.id).limit(limit)).mappings()]
    return r


def _rejected(session: Session, row_id: int) -> InboundEvent:
    row = session.get(InboundEvent, row_id)
    if row is None or row.status != "rejected":
        raise NotFoundError(f"rejected event #{row_id} not found")
    if row.resolution:
        raise ConflictError(f"event #{row_id} was already resolved ({row.resolution} by "
                            f"{row.resolved_by})")
    return row


def apply_rejected(services: Services, row_id: int, user: User, *, reason: str = "",
                   now: datetime | None = None) -> str:
    """Apply a rejected event with the event's own values: its business type and customer
    replace the archive's. Returns the business number."""
    require_admin(user)
    now = now or datetime.now(UTC)
    cal = calendar_for(services.settings)
    try:
        with session_scope(services.sessions) as s:
            row = _rejected(s, row_id)
            ev = parse_step_event(row.payload, default_tz=cal.tz)
            apply_step_event(s, services.checklist, cal, ev, now=now, system=row.system,
                             adopt=True)
            row.status, row.accepted_key = "accepted", f"{row.system}:{ev.event_id}"
            row.resolution, row.resolved_by, row.resolved_at = APPLIED, user.username, now
            row.resolution_reason = reason.strip()
            audit.record(s, actor=user.username, action="event_applied", entity="event",
                         entity_id=ev.event_id, reason=reason.strip(),
                         data={"inbound_event": row_id})
            s.flush()
            return ev.business_no
    except IntegrityError:
        raise ConflictError(f"event #{row_id} was accepted meanwhile (sent again fixed)",
                            hint="dismiss this copy") from None


def dismiss_rejected(services: Services, row_id: int, user: User, reason: str,
                     now: datetime | None = None) -> None:
    require_admin(user)
    if not reason.strip():
        raise InvalidInputError("reason: dismissing an event needs a reason")
    now = now or datetime.now(UTC)
    with session_scope(services.sessions) as s:
        row = _rejected(s, row_id)
        row.resolution, row.resolved_by, row.resolved_at = DISMISSED, user.username, now
        row.resolution_reason = reason.strip()
        audit.record(s, actor=user.username, action="event_dismissed", entity="event",
                     entity_id=row.event_id or str(row_id), reason=reason.strip())


def map_handler(session: Session, handler_id: int, username: str, actor: User,
                now: datetime) -> int:
    """Map an external handler id to a dms user; that handler's open tasks (in the team's
    queue so far) are assigned to the user. Returns how many tasks were assigned."""
    require_admin(actor)
    ext = session.get(ExternalHandler, handler_id)
    if ext is None:
        raise NotFoundError(f"external handler #{handler_id} not found")
    target = session.scalar(select(User).where(User.username == username.strip()))
    if target is None:
        raise InvalidInputError(f"username: unknown user {username!r}",
                                hint="dms users create")
    ext.user_id, ext.mapped_at, ext.mapped_by = target.id, now, actor.username
    # Few tasks are unassigned at a time (the team's queue): filtered here, not in JSON SQL.
    tasks = [t for t in session.scalars(select(Task).where(
        Task.status == OPEN, Task.assignee_id.is_(None), Task.kind == "digitise"))
        if (t.details or {}).get("external_handler") == ext.external_id]
    for t in tasks:
        t.assignee_id = target.id
    business_ids = {t.business_id for t in tasks if t.business_id is not None}
    if business_ids:
        session.execute(update(Business).where(Business.id.in_(business_ids),
                                               Business.handler_id.is_(None))
                        .values(handler_id=target.id))
    audit.record(session, actor=actor.username, action="handler_mapped", entity="user",
                 entity_id=target.username,
                 data={"system": ext.system, "external_id": ext.external_id,
                       "tasks": len(tasks)})
    return len(tasks)
