"""The read model of one archive item: documents against the checklist (exactly which
are missing), steps and their time limit, history, tasks, urges, and what the person
looking at it may do next."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db.models import AuditEvent, Customer, Document, Task, User
from dms.domain import reminders as rules
from dms.domain.checklist import Checklist
from dms.domain.lifecycle import GATE_NAMES_ZH, GATES, ORDER, State, may_act_on
from dms.domain.roles import Role
from dms.services.lifecycle import (as_utc, get_business, last_self_checker, missing_documents,
                                    steps_done)
from dms.services.reminders import urges_for_business


@dataclass
class ChecklistRow:
    code: str
    name: str
    step: str
    step_done: bool
    documents: list[dict[str, Any]]

    @property
    def status(self) -> str:
        if self.documents:
            return "present"
        return "missing" if self.step_done else "later"


@dataclass
class ItemView:
    business: Any
    customer: Any
    rows: list[ChecklistRow]
    missing: list[str]
    steps: list[dict[str, Any]]
    history: list[Any]
    tasks: list[Any]
    urges: list[dict[str, Any]]
    gate_name: str
    can_pass: bool
    can_return: bool
    limit_status: str
    unlisted: list[dict[str, Any]]


def item_view(session: Session, checklist: Checklist, business_no: str, user: User,
              now: datetime) -> ItemView:
    b = get_business(session, business_no)
    customer = session.get(Customer, b.customer_id)
    done = steps_done(session, b.id)
    docs = session.execute(select(Document.id, Document.doc_type, Document.source_name,
                                  Document.type_confirmed, Document.ocr_status)
                           .where(Document.business_id == b.id)
                           .order_by(Document.id)).mappings().all()
    known = b.business_type in checklist.business_types
    rows: list[ChecklistRow] = []
    if known:
        for code in checklist.required_for(b.business_type, agent=b.agent_applied):
            dt = checklist.document_types[code]
            rows.append(ChecklistRow(code, dt.name, dt.step, dt.step in done,
                                     [dict(d) for d in docs if d["doc_type"] == code]))
    listed = {r.code for r in rows}
    unlisted = [dict(d) for d in docs if d["doc_type"] not in listed]
    steps = [{"code": s, "name": checklist.steps[s].name, "done_at": done.get(s),
              "limit": checklist.business_types[b.business_type].time_limits.get(s)}
             for s in (rules.steps_of(checklist, b.business_type) if known else [])]
    history = session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "business", AuditEvent.entity_id == b.business_no)
        .order_by(AuditEvent.at, AuditEvent.id)).all()
    tasks = session.scalars(select(Task).where(Task.business_id == b.id)
                            .order_by(Task.created_at, Task.id)).all()
    state = State(b.archive_state)
    gate = GATES.get(state)
    role = Role(user.role)
    in_scope = may_act_on(role, actor_team_id=user.team_id, item_team_id=b.team_id)
    can_pass = bool(gate and in_scope and (role in gate.roles or role == Role.ADMIN))
    if can_pass and state == State.PENDING_REVIEW:
        can_pass = last_self_checker(session, b.business_no) != user.username  # four-eyes
    prev = GATES.get(ORDER[ORDER.index(state) - 1]) if ORDER.index(state) > 0 else None
    back_gate = GATES.get(state)
    can_return = bool(prev and in_scope and (
        role == Role.ADMIN or role in prev.roles or (back_gate and role in back_gate.roles)))
    status = ""
    if b.step_due_at is not None and b.step_warn_at is not None:
        status = rules.limit_status(as_utc(now), as_utc(b.step_warn_at), as_utc(b.step_due_at))
    return ItemView(b, customer, rows, missing_documents(session, checklist, b), steps,
                    list(history), list(tasks), urges_for_business(session, b.id),
                    GATE_NAMES_ZH.get(gate.name, gate.name) if gate else "", can_pass,
                    can_return, status, unlisted)
