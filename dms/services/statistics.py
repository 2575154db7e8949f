"""Management statistics (营销部考核): completeness, timeliness and quality, per team,
handler, business type or period. All computed in the database with GROUP BY.

Definitions (what the data supports):

* **completeness rate** — present required (business, type) pairs / required pairs, with
  "required" and "present" as in ``dms.services.gap_report`` (any document of the type
  counts as present, as the lifecycle's completeness gate does); **complete businesses**
  — businesses without a missing type; **open gaps** — missing pairs; **old gaps** —
  missing pairs open for more than N days at ``now``.
* **digitised and sent within 48 h** — of the completed steps that produce paper for the
  business (the checklist requires a type of that step), the share whose item was next
  sent (audit transition pending_send → pending_review) within
  ``deadlines.digitise_and_send_hours`` of the step's completion. Only steps whose
  deadline has passed at ``now`` or that were already sent are counted (a step completed
  an hour ago is not late yet).
* **transferred within 7 days** — likewise with the archive room's receipt (pending_transfer
  → pending_shelving) and ``deadlines.transfer_to_archive_room_days``.
* **return rate per gate** — returns / (passes + returns) of the gate out of a state, where
  a return is a person's transition one state back (the system's reopenings when a later
  step completes are not returns); with the count per reason.
* **overdue businesses** — per team, businesses past the time limit of their current
  step (``step_due_at`` < now) and businesses with an open archive task past its due time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from dms.db.models import AuditEvent, Business, BusinessStepDone, Task, Team, User
from dms.domain.checklist import Checklist
from dms.domain.lifecycle import GATES, ORDER, State
from dms.services.gap_report import GapFilter, pairs_subquery, requirements_source

GROUPS = ("team", "handler", "business_type", "month")


@dataclass(frozen=True)
class CompletenessRow:
    key: str
    businesses: int
    complete_businesses: int
    required: int
    present: int
    open_gaps: int
    old_gaps: int

    @property
    def rate(self) -> float:
        return self.present / self.required if self.required else 1.0


def completeness(session: Session, checklist: Checklist, review_below: float, *,
                 group_by: str, now: datetime, older_than_days: int = 7,
                 f: GapFilter = GapFilter(), source: str = "auto") -> list[CompletenessRow]:
    """``source``: the maintained gap table when fresh (``auto``) or the live rows, as
    ``gap_report.use_table``."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by is one of {GROUPS}")
    p = pairs_subquery(session, checklist, review_below, f, source)
    missing = p.c.rank == 0
    old = and_(missing, p.c.required_since < now - timedelta(days=older_than_days))
    key: Any
    stmt = select()
    if group_by == "team":
        key = func.coalesce(Team.code, "")
        stmt = stmt.outerjoin_from(p, Team, Team.id == p.c.team_id)
    elif group_by == "handler":
        key = func.coalesce(User.display_name, "")
        stmt = stmt.outerjoin_from(p, User, User.id == p.c.handler_id)
    elif group_by == "business_type":
        key = p.c.business_type
        stmt = stmt.select_from(p)
    else:
        key = _month(session, p.c.business_created_at)
        stmt = stmt.select_from(p)
    per_business = (
        stmt.add_columns(key.label("key"), p.c.business_id,
                         func.count().label("required"),
                         func.sum(case((missing, 0), else_=1)).label("present"),
                         func.sum(case((old, 1), else_=0)).label("old"))
        .group_by(key, p.c.business_id).subquery())
    q = (select(per_business.c.key, func.count(),
                func.sum(case((per_business.c.present == per_business.c.required, 1),
                              else_=0)),
                func.sum(per_business.c.required), func.sum(per_business.c.present),
                func.sum(per_business.c.old))
         .group_by(per_business.c.key).order_by(per_business.c.key))
    return [CompletenessRow(str(k), int(n), int(c or 0), int(r or 0), int(pr or 0),
                            int(r or 0) - int(pr or 0), int(o or 0))
            for k, n, c, r, pr, o in session.execute(q)]


def _month(session: Session, col: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", col)
    return func.to_char(col, "YYYY-MM")


@dataclass(frozen=True)
class TimelinessRow:
    team: str
    steps: int  # steps counted for digitising (deadline passed or sent)
    sent_in_time: int
    steps_for_transfer: int
    transferred_in_time: int

    @property
    def sent_rate(self) -> float:
        return self.sent_in_time / self.steps if self.steps else 1.0

    @property
    def transfer_rate(self) -> float:
        return (self.transferred_in_time / self.steps_for_transfer
                if self.steps_for_transfer else 1.0)


def _first_after(src: State, dst: State) -> Any:
    """When the item first passed src → dst at or after the step's completion."""
    return (select(func.min(AuditEvent.at))
            .where(AuditEvent.entity == "business", AuditEvent.entity_id == Business.business_no,
                   AuditEvent.action == "transition", AuditEvent.from_state == src.value,
                   AuditEvent.to_state == dst.value,
                   AuditEvent.at >= BusinessStepDone.completed_at)
            .correlate(Business, BusinessStepDone).scalar_subquery())


def timeliness(session: Session, checklist: Checklist, *, now: datetime,
               teams: tuple[str, ...] | None = None) -> list[TimelinessRow]:
    req = requirements_source(session, checklist)
    send_limit = timedelta(hours=checklist.deadlines.digitise_and_send_hours)
    transfer_limit = timedelta(days=checklist.deadlines.transfer_to_archive_room_days)
    produces_paper = exists().where(
        req.c.business_type == Business.business_type, req.c.step == BusinessStepDone.step,
        or_(req.c.conditional == 0, Business.agent_applied.is_(True)))
    steps = (select(func.coalesce(Team.code, "").label("team"),
                    BusinessStepDone.completed_at.label("done"),
                    _first_after(State.PENDING_SEND, State.PENDING_REVIEW).label("sent"),
                    _first_after(State.PENDING_TRANSFER, State.PENDING_SHELVING)
                    .label("received"))
             .join(Business, Business.id == BusinessStepDone.business_id)
             .outerjoin(Team, Team.id == Business.team_id)
             .where(produces_paper))
    if teams is not None:
        steps = steps.where(Team.code.in_(teams))
    st = steps.subquery()
    # "Deadline passed" compares with one instant (done <= now - limit), index-friendly.
    send_due = st.c.done <= now - send_limit
    transfer_due = st.c.done <= now - transfer_limit

    def in_time(col: Any, limit: timedelta) -> ColumnElement[bool]:
        return _within(session, st.c.done, col, limit)

    q = (select(st.c.team,
                func.sum(case((or_(send_due, st.c.sent.is_not(None)), 1), else_=0)),
                func.sum(case((in_time(st.c.sent, send_limit), 1), else_=0)),
                func.sum(case((or_(transfer_due, st.c.received.is_not(None)), 1), else_=0)),
                func.sum(case((in_time(st.c.received, transfer_limit), 1), else_=0)))
         .group_by(st.c.team).order_by(st.c.team))
    return [TimelinessRow(t, int(a or 0), int(b or 0), int(c or 0), int(d or 0))
            for t, a, b, c, d in session.execute(q)]


def _within(session: Session, start: Any, end: Any, limit: timedelta) -> ColumnElement[bool]:
    seconds = limit.total_seconds()
    if session.get_bind().dialect.name == "sqlite":
        elapsed = (func.julianday(end) - func.julianday(start)) * 86400.0
    else:
        elapsed = func.extract("epoch", end - start)
    return and_(end.is_not(None), elapsed <= literal(seconds))


@dataclass(frozen=True)
class GateReturns:
    gate: str
    passes: int
    returns: int
    reasons: list[tuple[str, int]]

    @property
    def rate(self) -> float:
        total = self.passes + self.returns
        return self.returns / total if total else 0.0


def _back_pairs() -> ColumnElement[bool]:
    return or_(*(and_(AuditEvent.from_state == ORDER[i].value,
                      AuditEvent.to_state == ORDER[i - 1].value) for i in range(1, len(ORDER))))


def return_rates(session: Session, *, since: datetime | None = None,
                 until: datetime | None = None,
                 teams: tuple[str, ...] | None = None) -> list[GateReturns]:
    """Passes and returns per gate (the gate out of the state an item was returned from)."""
    conds: list[ColumnElement[bool]] = [AuditEvent.action == "transition",
                                        AuditEvent.entity == "business"]
    if since is not None:
        conds.append(AuditEvent.at >= since)
    if until is not None:
        conds.append(AuditEvent.at < until)
    if teams is not None:
        conds.append(AuditEvent.entity_id.in_(
            select(Business.business_no).join(Team, Team.id == Business.team_id)
            .where(Team.code.in_(teams))))
    is_return = and_(_back_pairs(), AuditEvent.actor != "system")
    rows = session.execute(
        select(AuditEvent.from_state, AuditEvent.to_state, AuditEvent.reason, func.count())
        .where(*conds, or_(is_return, *(and_(AuditEvent.from_state == g.source.value,
                                             AuditEvent.to_state == g.target.value)
                                        for g in GATES.values())))
        .group_by(AuditEvent.from_state, AuditEvent.to_state, AuditEvent.reason)).all()
    out: dict[str, dict[str, Any]] = {g.name: {"passes": 0, "returns": 0, "reasons": {}}
                                      for g in GATES.values()}
    for src, dst, reason, n in rows:
        gate = GATES.get(State(src))
        if gate is None:
            continue
        acc = out[gate.name]
        if dst == gate.target.value:
            acc["passes"] += n
        else:
            acc["returns"] += n
            acc["reasons"][reason or ""] = acc["reasons"].get(reason or "", 0) + n
    return [GateReturns(name, v["passes"], v["returns"],
                        sorted(v["reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
            for name, v in out.items()]


@dataclass(frozen=True)
class OverdueRow:
    team: str
    past_time_limit: int
    archive_work_overdue: int


def overdue_by_team(session: Session, *, now: datetime,
                    teams: tuple[str, ...] | None = None) -> list[OverdueRow]:
    late_task = exists().where(Task.business_id == Business.id, Task.status == "open",
                               Task.due_at < now)
    q = (select(func.coalesce(Team.code, ""),
                func.sum(case((and_(Business.step_due_at.is_not(None),
                                    Business.step_due_at < now), 1), else_=0)),
                func.sum(case((late_task, 1), else_=0)))
         .select_from(Business).outerjoin(Team, Team.id == Business.team_id)
         .where(Business.archive_state != State.ARCHIVED.value)
         .group_by(Team.code).order_by(Team.code))
    if teams is not None:
        q = q.where(Team.code.in_(teams))
    return [OverdueRow(t, int(a or 0), int(b or 0)) for t, a, b in session.execute(q)]
