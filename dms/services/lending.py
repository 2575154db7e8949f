"""Lending paper originals: request, approve, check out, return by scan, overdue reminders.

Rules are in ``dms.domain.lending``; this module loads, stores and audits. Every
loan event is an audit entry on the volume, so the volume's history shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import Customer, Team, User, Volume
from dms.db.models_physical import Loan
from dms.domain.lending import (OPEN_STATES, LoanAction, LoanState, as_utc, days_overdue,
                                due_date, next_state, parse_reason)
from dms.domain.access import Action, Scope, scope
from dms.domain.roles import Role
from dms.errors import ConflictError, NotFoundError
from dms.services.physical import get_volume


def _audit(session: Session, loan: Loan, vol: Volume, actor: str, action: str, source: str,
           reason: str = "", **data: object) -> None:
    audit.record(session, actor=actor, action=f"loan_{action}", entity="volume",
                 entity_id=vol.volume_no, from_state=source, to_state=loan.state, reason=reason,
                 data={"loan": loan.id, **data})


def request_loan(session: Session, *, volume_no: str, user: User, reason: str, note: str = "",
                 now: datetime) -> Loan:
    """Ask for a volume's paper original; one open request or loan per volume at a time."""
    why = parse_reason(reason)
    vol = get_volume(session, volume_no)
    busy = session.scalar(select(Loan).where(Loan.volume_id == vol.id,
                                             Loan.state.in_([s.value for s in OPEN_STATES])))
    if busy is not None:
        raise ConflictError(f"volume {vol.volume_no} already has an open loan "
                            f"({busy.state}, {busy.borrower})")
    team = session.get(Team, user.team_id) if user.team_id else None
    loan = Loan(volume_id=vol.id, requester_id=user.id, requester=user.username,
                borrower=user.display_name or user.username,
                borrower_team=team.name if team else "",
                reason=why.value, note=note.strip(), state=LoanState.REQUESTED.value,
                requested_at=now)
    session.add(loan)
    session.flush()
    _audit(session, loan, vol, user.username, "requested", "", reason=why.value, note=note)
    return loan


def get_loan(session: Session, loan_id: int) -> tuple[Loan, Volume]:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFoundError(f"loan {loan_id} not found")
    vol = session.get(Volume, loan.volume_id)
    assert vol is not None
    return loan, vol


def _apply(session: Session, loan_id: int, action: LoanAction, *, actor: str, role: Role,
           reason: str = "") -> tuple[Loan, Volume, str]:
    loan, vol = get_loan(session, loan_id)
    source = loan.state
    loan.state = next_state(LoanState(loan.state), action, role=role, actor=actor,
                            requester=loan.requester, reason=reason).value
    return loan, vol, source


def approve_loan(session: Session, loan_id: int, *, actor: str, role: Role, now: datetime,
                 note: str = "") -> Loan:
    loan, vol, source = _apply(session, loan_id, LoanAction.APPROVE, actor=actor, role=role)
    loan.decided_by, loan.decided_at, loan.decision_note = actor, now, note
    _audit(session, loan, vol, actor, "approved", source, reason=note)
    return loan


def reject_loan(session: Session, loan_id: int, *, actor: str, role: Role, now: datetime,
                reason: str) -> Loan:
    loan, vol, source = _apply(session, loan_id, LoanAction.REJECT, actor=actor, role=role,
                               reason=reason)
    loan.decided_by, loan.decided_at, loan.decision_note = actor, now, reason
    _audit(session, loan, vol, actor, "rejected", source, reason=reason)
    return loan


def cancel_loan(session: Session, loan_id: int, *, actor: str, role: Role,
                now: datetime) -> Loan:
    loan, vol, source = _apply(session, loan_id, LoanAction.CANCEL, actor=actor, role=role)
    loan.decided_at = loan.decided_at or now
    _audit(session, loan, vol, actor, "cancelled", source)
    return loan


def check_out(session: Session, loan_id: int, *, actor: str, role: Role, now: datetime,
              days: int | None = None) -> Loan:
    """Hand the paper over; the due date follows the reason unless ``days`` is given."""
    loan, vol, source = _apply(session, loan_id, LoanAction.CHECK_OUT, actor=actor, role=role)
    loan.checked_out_by, loan.checked_out_at = actor, now
    loan.due_at = due_date(now, parse_reason(loan.reason), days)
    _audit(session, loan, vol, actor, "checked_out", source, due=loan.due_at.isoformat(),
           borrower=loan.borrower)
    return loan


def return_volume(session: Session, volume_no: str, *, actor: str, role: Role,
                  now: datetime) -> Loan:
    """The paper came back: scanning its volume label closes the loan."""
    vol = get_volume(session, volume_no)
    loan = session.scalar(select(Loan).where(Loan.volume_id == vol.id,
                                             Loan.state == LoanState.CHECKED_OUT.value))
    if loan is None:
        raise ConflictError(f"volume {vol.volume_no} is not on loan")
    late = days_overdue(as_utc(loan.due_at), now) if loan.due_at else 0
    loan, vol, source = _apply(session, loan.id, LoanAction.RETURN, actor=actor, role=role)
    loan.returned_to, loan.returned_at = actor, now
    _audit(session, loan, vol, actor, "returned", source, days_late=late)
    return loan


def loans_of_volume(session: Session, volume_no: str) -> list[Loan]:
    vol = get_volume(session, volume_no)
    return list(session.scalars(select(Loan).where(Loan.volume_id == vol.id)
                                .order_by(Loan.id.desc())))


def loans_in_state(session: Session, states: list[str], limit: int = 500, *,
                   requester_id: int | None = None) -> list[tuple[Loan, str, str, str]]:
    """Loans with their volume number and customer, for the archive room's work lists
    (only one person's own loans when ``requester_id`` is given)."""
    stmt = (select(Loan, Volume.volume_no, Customer.customer_no, Customer.name)
            .join(Volume, Volume.id == Loan.volume_id)
            .join(Customer, Customer.id == Volume.customer_id)
            .where(Loan.state.in_(states)))
    if requester_id is not None:
        stmt = stmt.where(Loan.requester_id == requester_id)
    return list(session.execute(stmt.order_by(Loan.id).limit(limit)).all())


@dataclass(frozen=True)
class OverdueLoan:
    """One reminder for the inbox: a paper original that should be back by now."""

    loan_id: int
    volume_no: str
    customer_no: str
    customer_name: str
    borrower: str
    borrower_team: str
    requester_id: int | None
    due_at: datetime
    days_overdue: int


def overdue_loans(session: Session, now: datetime, *, requester_id: int | None = None,
                  limit: int | None = None) -> list[OverdueLoan]:
    """Checked-out loans past their due date, most overdue first (for the reminder inbox);
    only those one person asked for when ``requester_id`` is given."""
    now = as_utc(now).astimezone(UTC)  # stored times are UTC; SQLite compares them as text
    stmt = (select(Loan, Volume.volume_no, Customer.customer_no, Customer.name)
            .join(Volume, Volume.id == Loan.volume_id)
            .join(Customer, Customer.id == Volume.customer_id)
            .where(Loan.state == LoanState.CHECKED_OUT.value, Loan.due_at < now))
    if requester_id is not None:
        stmt = stmt.where(Loan.requester_id == requester_id)
    rows = session.execute(stmt.order_by(Loan.due_at, Loan.id).limit(limit)).all()
    return [OverdueLoan(loan.id, vno, cno, cname, loan.borrower, loan.borrower_team,
                        loan.requester_id, as_utc(loan.due_at),
                        days_overdue(as_utc(loan.due_at), now))
            for loan, vno, cno, cname in rows if loan.due_at is not None]


#: Who chases every overdue original: the archive room (and admins). Everyone else is
#: reminded of the originals they borrowed themselves.
CHASES_ALL_LOANS = frozenset(r for r in Role if scope(r, Action.LOAN_READ) is Scope.ALL)


def overdue_loans_for(session: Session, user: User, now: datetime,
                      limit: int | None = None) -> list[OverdueLoan]:
    """The overdue loans that belong in this person's inbox."""
    mine = None if Role(user.role) in CHASES_ALL_LOANS else user.id
    return overdue_loans(session, now, requester_id=mine, limit=limit)
