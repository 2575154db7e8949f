"""Use cases of the archive lifecycle: business events, gates, returns, archive tasks.

Every transition goes through ``_transition`` and so into the append-only audit log
(who, when, from, to, reason). Clock-dependent functions take ``now``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models_events import ExternalHandler
from dms.db.models import (AuditEvent, Business, BusinessStepDone, Customer, Document, Task,
                           Team, User)
from dms.domain import reminders as rules
from dms.domain.checklist import Checklist
from dms.domain.locations import parse_slot_code
from dms.domain.lifecycle import (ORDER, State, StepEvent, Transition, advance, may_act_on,
                                  reopen, send_back)
from dms.domain.roles import Role
from dms.domain.workdays import HolidayCalendar, load_calendar
from dms.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dms.services.indexing import business_changed
from dms.settings import Settings

OPEN = "open"
DONE = "done"


@lru_cache(maxsize=8)
def _calendar_cached(path: str, _mtime: float) -> HolidayCalendar:
    return load_calendar(Path(path))


def calendar_for(settings: Settings) -> HolidayCalendar:
    """The holiday calendar, re-read when ``holidays.yaml`` changes."""
    path = settings.holidays_path
    mtime = os.stat(path).st_mtime if path.exists() else 0.0
    return _calendar_cached(str(path), mtime)


def as_utc(at: datetime) -> datetime:
    """Instants are stored in UTC: SQLite drops the offset, so a naive value read back
    is UTC, and an aware value in another zone must be converted before it is written."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# --- reading an item ---------------------------------------------------------------------


def get_business(session: Session, business_no: str) -> Business:
    b = session.scalar(select(Business).where(Business.business_no == business_no))
    if b is None:
        raise NotFoundError(f"archive item {business_no} not found")
    return b


def steps_done(session: Session, business_id: int) -> dict[str, datetime]:
    return {step: as_utc(at) for step, at in session.execute(
        select(BusinessStepDone.step, BusinessStepDone.completed_at)
        .where(BusinessStepDone.business_id == business_id))}


def present_types(session: Session, business_id: int) -> set[str]:
    return set(session.scalars(select(Document.doc_type).where(
        Document.business_id == business_id, Document.doc_type.is_not(None))))


def missing_documents(session: Session, checklist: Checklist, b: Business) -> list[str]:
    """Documents the checklist requires for the steps completed so far and that no
    document of the business has been classified as."""
    if b.business_type not in checklist.business_types:
        return []
    return checklist.missing(b.business_type, present_types(session, b.id),
                             set(steps_done(session, b.id)), agent=b.agent_applied)


def last_self_checker(session: Session, business_no: str) -> str | None:
    return session.scalar(
        select(AuditEvent.actor).where(
            AuditEvent.entity == "business", AuditEvent.entity_id == business_no,
            AuditEvent.action == "transition", AuditEvent.from_state == State.PENDING_SEND,
            AuditEvent.to_state == State.PENDING_REVIEW)
        .order_by(AuditEvent.id.desc()).limit(1))


# --- transitions ---------------------------------------------------------------------------


def _transition(session: Session, b: Business, t: Transition, now: datetime,
                data: dict[str, object] | None = None) -> None:
    b.archive_state = t.target
    b.state_since = now
    business_changed(session, b.id)  # the state is in every document's index entry
    audit.record(session, actor=t.actor, action="transition", entity="business",
                 entity_id=b.business_no, from_state=t.source, to_state=t.target,
                 reason=t.reason, data=data)
    passed = ORDER.index(State(t.target))
    # Tasks are done once the item is past their gate: the paper was sent (digitise)
    # or received by the archive room (transfer).
    for kind, done_at in ((rules.TaskKind.DIGITISE, State.PENDING_REVIEW),
                          (rules.TaskKind.TRANSFER, State.PENDING_SHELVING)):
        if passed >= ORDER.index(done_at):
            session.execute(update(Task).where(
                Task.business_id == b.id, Task.kind == kind, Task.status == OPEN)
                .values(status=DONE, closed_at=now, next_urge_at=None))


def mark_digitised(session: Session, b: Business, now: datetime, *, actor: str = "system",
                   reason: str = "electronic copy digitised") -> bool:
    """pending_add → pending_send once an electronic copy exists (called when OCR of a
    document of the business finishes)."""
    if b.archive_state != State.PENDING_ADD:
        return False
    now = as_utc(now)
    _transition(session, b, Transition(State.PENDING_ADD, State.PENDING_SEND, actor, reason),
                now)
    return True


def _check_scope(user: User, b: Business) -> Role:
    role = Role(user.role)
    if not may_act_on(role, actor_team_id=user.team_id, item_team_id=b.team_id):
        raise PermissionDeniedError(f"{user.username} may not act on another team's item "
                                    f"{b.business_no}")
    return role


def pass_gate(session: Session, checklist: Checklist, b: Business, user: User, now: datetime,
              *, location: str = "") -> Transition:
    """Pass the gate out of the item's state (self-check, review, receipt, shelving)."""
    role = _check_scope(user, b)
    now = as_utc(now)
    state = State(b.archive_state)
    missing = missing_documents(session, checklist, b) if state == State.PENDING_SEND else None
    previous = last_self_checker(session, b.business_no) \
        if state == State.PENDING_REVIEW else None
    t = advance(state, actor=user.username, role=role, missing_documents=missing,
                previous_gate_actor=previous)
    if t.target == State.ARCHIVED:
        # Archived means shelved: the paper has a place (room-unit-column-shelf-slot).
        if not location.strip():
            raise InvalidInputError(
                f"location: {b.business_no} is archived only with its place on the shelf",
                hint="box and shelve it (实体档案), or give the slot, e.g. R01-J03-A-05-2")
        location = str(parse_slot_code(location.strip()))
    _transition(session, b, t, now, {"location": location} if location else None)
    return t


def return_item(session: Session, b: Business, user: User, reason: str,
                now: datetime) -> Transition:
    role = _check_scope(user, b)
    now = as_utc(now)
    t = send_back(State(b.archive_state), actor=user.username, role=role, reason=reason)
    _transition(session, b, t, now)
    _reopen_tasks(session, b, State(t.target), now)
    return t


def _reopen_tasks(session: Session, b: Business, target: State, now: datetime) -> None:
    """A returned item needs its work again: the task closed by the gate it went back
    before (digitise on a return to pending_send, transfer on one to pending_transfer)
    is opened again with its original span from now, so urging starts over."""
    for kind, done_at in ((rules.TaskKind.DIGITISE, State.PENDING_REVIEW),
                          (rules.TaskKind.TRANSFER, State.PENDING_SHELVING)):
        if ORDER.index(target) >= ORDER.index(done_at):
            continue
        last = session.scalar(select(Task).where(Task.business_id == b.id, Task.kind == kind)
                              .order_by(Task.id.desc()).limit(1))
        if last is None or last.status == OPEN:
            continue
        span = (as_utc(last.due_at) - as_utc(last.created_at)) if last.due_at else None
        due = now + span if span is not None else now
        last.status, last.closed_at, last.urge_count = OPEN, None, 0
        last.due_at, last.next_urge_at, last.last_urged_at = due, due, None


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def bulk_act(session: Session, checklist: Checklist, business_nos: list[str], user: User,
             now: datetime, *, accept: bool, reason: str = "") -> BulkResult:
    """Accept or return many items; each in its own savepoint so one refusal (four-eyes,
    a missing document) does not undo the others."""
    from dms.errors import DmsError

    result = BulkResult()
    for no in dict.fromkeys(business_nos):
        try:
            with session.begin_nested():
                b = get_business(session, no)
                if accept:
                    pass_gate(session, checklist, b, user, now)
                else:
                    return_item(session, b, user, reason, now)
            result.done.append(no)
        except DmsError as exc:
            result.failed[no] = exc.message
    return result


# --- business events ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventApplied:
    business_no: str
    state: str
    created: bool
    documents: list[str]       # what the step produces (checklist)
    present: list[str]         # which of them are already in the archive
    task_id: int | None


def _reference(session: Session, model: type, column: object, value: str, what: str,
               hint: str) -> object:
    row = session.scalar(select(model).where(column == value))  # type: ignore[arg-type]
    if row is None:
        raise InvalidInputError(f"unknown {what} {value!r}", hint=hint)
    return row


def _customer_of(session: Session, ev: StepEvent, now: datetime) -> Customer:
    """The event's customer; a customer the archive does not know yet is created from the
    event (a new connection is announced before its paper is scanned), and empty name,
    address or kind of a known one (e.g. created by a scanner folder) are filled in."""
    customer = session.scalar(select(Customer).where(Customer.customer_no == ev.customer_no))
    if customer is None:
        customer = Customer(customer_no=ev.customer_no, created_at=now)
        session.add(customer)
        audit.record(session, actor="marketing", action="customer_created", entity="customer",
                     entity_id=ev.customer_no, data={"event_id": ev.event_id})
    customer.name = customer.name or ev.customer_name
    customer.address = customer.address or ev.customer_address
    customer.kind = customer.kind or ev.customer_kind
    session.flush()
    return customer


def _handler_of(session: Session, ev: StepEvent, system: str, now: datetime) -> User | None:
    """The dms user the event's handler is: a user of that name, or one an administrator
    mapped the external id to. An unknown handler is recorded for mapping and yields None
    (the task then goes to the team's queue) rather than rejecting the event."""
    user = session.scalar(select(User).where(User.username == ev.handler))
    if user is not None:
        return user
    ext = session.scalar(select(ExternalHandler).where(
        ExternalHandler.system == (system or "marketing"),
        ExternalHandler.external_id == ev.handler))
    if ext is None:
        session.add(ExternalHandler(system=system or "marketing", external_id=ev.handler,
                                    first_seen_at=now))
        return None
    return session.get(User, ext.user_id) if ext.user_id is not None else None


def _business_of(session: Session, ev: StepEvent, customer: Customer, *, now: datetime,
                 completed_at: datetime, adopt: bool, actor: str) -> tuple[Business, bool]:
    """The event's business, created if new. A business known only by number (a scanner
    folder without a type) takes the event's type; a real conflict is refused with both
    values unless ``adopt`` (an administrator applies the event's values)."""
    b = session.scalar(select(Business).where(Business.business_no == ev.business_no))
    if b is None:
        b = Business(business_no=ev.business_no, customer_id=customer.id,
                     business_type=ev.business_type, archive_state=State.PENDING_ADD,
                     state_since=completed_at, created_at=now)
        session.add(b)
        session.flush()
        return b, True
    changes: dict[str, object] = {}
    if b.customer_id != customer.id:
        known = session.get(Customer, b.customer_id)
        known_no = known.customer_no if known is not None else "?"
        if not adopt:
            raise ConflictError(
                f"业务 {ev.business_no} 属于客户 {known_no}，事件给出客户 {ev.customer_no} / "
                f"business {ev.business_no} belongs to customer {known_no}, the event names "
                f"customer {ev.customer_no}",
                hint="管理员在“事件对账”处理 / an administrator resolves it under 事件对账 "
                     "(/admin/events)")
        changes["customer"] = [known_no, ev.customer_no]
        b.customer_id = customer.id
    if b.business_type != ev.business_type:
        if b.business_type and not adopt:
            raise ConflictError(
                f"业务 {ev.business_no} 的业务类型为 {b.business_type}，事件给出 "
                f"{ev.business_type} / business {ev.business_no} is of type "
                f"{b.business_type}, the event names type {ev.business_type}",
                hint="管理员在“事件对账”处理 / an administrator resolves it under 事件对账 "
                     "(/admin/events)")
        changes["business_type"] = [b.business_type, ev.business_type]
        b.business_type = ev.business_type
    if changes:
        audit.record(session, actor=actor, action="business_typed", entity="business",
                     entity_id=b.business_no, data={"event_id": ev.event_id, **changes})
    return b, False


def apply_step_event(session: Session, checklist: Checklist, calendar: HolidayCalendar,
                     ev: StepEvent, *, now: datetime, system: str = "",
                     adopt: bool = False) -> EventApplied:
    """Apply one business event. ``adopt``: an administrator resolving a rejected event
    lets the event's type and customer replace the business's."""
    now, completed_at = as_utc(now), as_utc(ev.completed_at)
    if ev.business_type not in checklist.business_types:
        raise InvalidInputError(f"unknown business type {ev.business_type!r}",
                                hint="known: " + ", ".join(checklist.business_types))
    if ev.step not in checklist.steps:
        raise InvalidInputError(f"unknown business step {ev.step!r}",
                                hint="known: " + ", ".join(checklist.step_names()))
    team_id: int | None = None
    if ev.team:
        team = _reference(session, Team, Team.code, ev.team, "team", "a team code such as YYB")
        assert isinstance(team, Team)
        team_id = team.id
    customer = _customer_of(session, ev, now)
    handler = _handler_of(session, ev, system, now)
    if team_id is None:
        team_id = handler.team_id if handler is not None else customer.team_id
    b, created = _business_of(session, ev, customer, now=now, completed_at=completed_at,
                              adopt=adopt, actor=system or "marketing")
    done = steps_done(session, b.id)
    if ev.step in done:
        raise ConflictError(f"step {ev.step} of business {ev.business_no} was already "
                            f"completed at {done[ev.step].isoformat()}")
    session.add(BusinessStepDone(business_id=b.id, step=ev.step, completed_at=completed_at,
                                 handler_id=handler.id if handler else None))
    done[ev.step] = completed_at
    b.handler_id, b.team_id = (handler.id if handler else None), team_id
    b.agent_applied = b.agent_applied or ev.agent_applied
    if customer.team_id is None:
        customer.team_id = team_id
    _restart_step_clock(checklist, calendar, b, done)
    audit.record(session, actor=system or "marketing", action="step_completed",
                 entity="business", entity_id=b.business_no,
                 data={"step": ev.step, "event_id": ev.event_id, "handler": ev.handler,
                       "handler_known": handler is not None,
                       "completed_at": completed_at.isoformat()})
    produced = checklist.required_for(ev.business_type, {ev.step}, agent=b.agent_applied)
    have = present_types(session, b.id)
    if any(c not in have for c in produced):
        t = reopen(State(b.archive_state),
                   reason=f"业务环节 {checklist.steps[ev.step].name} 完成，新资料待添加")
        if t is not None:
            _transition(session, b, t, completed_at)
    task_id = _open_tasks(session, checklist, b, ev.step, completed_at, produced, have,
                          external_handler="" if handler else ev.handler)
    return EventApplied(b.business_no, b.archive_state, created, produced,
                        [c for c in produced if c in have], task_id)


def _restart_step_clock(checklist: Checklist, calendar: HolidayCalendar, b: Business,
                        done: dict[str, datetime]) -> None:
    clock = rules.step_clock(checklist, calendar, b.business_type, set(done),
                             max(done.values()) if done else None)
    b.current_step = rules.current_step(checklist, b.business_type, set(done))
    b.step_warn_at = as_utc(clock.warn_at) if clock else None
    b.step_due_at = as_utc(clock.due_at) if clock else None


def _open_tasks(session: Session, checklist: Checklist, b: Business, step: str,
                completed_at: datetime, produced: list[str], have: set[str],
                external_handler: str = "") -> int | None:
    """The handler's task for this step's paper (48 h) and the team's transfer task (7 days),
    only while the item still needs that work. A handler dms does not know yet is kept as
    ``external_handler`` so a later mapping assigns the task."""
    state = ORDER.index(State(b.archive_state))
    dl = checklist.deadlines
    task: Task | None = None
    if produced and state < ORDER.index(State.PENDING_REVIEW):
        due = rules.digitise_due(completed_at, dl)
        task = Task(kind=rules.TaskKind.DIGITISE, business_id=b.id, assignee_id=b.handler_id,
                    team_id=b.team_id, step=step, status=OPEN, due_at=due, next_urge_at=due,
                    created_at=completed_at,
                    details={"documents": produced,
                             "present": sorted(c for c in produced if c in have),
                             **({"external_handler": external_handler}
                                if external_handler else {})})
        session.add(task)
    if state < ORDER.index(State.PENDING_SHELVING) and session.scalar(
            select(Task.id).where(Task.business_id == b.id, Task.status == OPEN,
                                  Task.kind == rules.TaskKind.TRANSFER)) is None:
        due = rules.transfer_due(completed_at, dl)
        session.add(Task(kind=rules.TaskKind.TRANSFER, business_id=b.id, assignee_id=None,
                         team_id=b.team_id, step=step, status=OPEN, due_at=due,
                         next_urge_at=due, created_at=completed_at, details={}))
    session.flush()
    return task.id if task else None
