"""Lending paper originals (借阅): states, who may do what, due dates, overdue.

requested → approved → checked_out → returned; a request can be rejected (with a
reason) or cancelled before it is checked out. "Overdue" is not stored: a loan
is overdue while it is checked out and the clock has passed its due date.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from dms.domain.access import Action, Scope, scope
from dms.domain.roles import Role
from dms.errors import ConflictError, InvalidInputError, PermissionDeniedError


class LoanState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"
    RETURNED = "returned"


class LoanReason(StrEnum):
    DISPUTE = "dispute"     # 纠纷处理
    AUDIT = "audit"         # 审计检查
    BUSINESS = "business"   # 业务办理


LOAN_STATE_NAMES_ZH = {
    LoanState.REQUESTED: "待审批", LoanState.APPROVED: "已批准", LoanState.REJECTED: "已驳回",
    LoanState.CANCELLED: "已取消", LoanState.CHECKED_OUT: "借出中", LoanState.RETURNED: "已归还",
    "overdue": "已逾期",
}
LOAN_REASON_NAMES_ZH = {LoanReason.DISPUTE: "纠纷处理", LoanReason.AUDIT: "审计检查",
                        LoanReason.BUSINESS: "业务办理"}

#: Default loan periods in calendar days; a dispute can take a month in court.
DEFAULT_LOAN_DAYS = {LoanReason.DISPUTE: 30, LoanReason.AUDIT: 15, LoanReason.BUSINESS: 7}
MAX_LOAN_DAYS = 90

#: States in which the volume is spoken for: no second loan may be opened.
OPEN_STATES = frozenset({LoanState.REQUESTED, LoanState.APPROVED, LoanState.CHECKED_OUT})
# Who decides on loans and keeps the shelves: the access policy's archive room.
LENDING_ROLES = frozenset(r for r in Role if scope(r, Action.LOAN_DECIDE) is Scope.ALL)


class LoanAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    CHECK_OUT = "check_out"
    RETURN = "return"


_MOVES: dict[LoanAction, tuple[frozenset[LoanState], LoanState]] = {
    LoanAction.APPROVE: (frozenset({LoanState.REQUESTED}), LoanState.APPROVED),
    LoanAction.REJECT: (frozenset({LoanState.REQUESTED}), LoanState.REJECTED),
    LoanAction.CANCEL: (frozenset({LoanState.REQUESTED, LoanState.APPROVED}),
                        LoanState.CANCELLED),
    LoanAction.CHECK_OUT: (frozenset({LoanState.APPROVED}), LoanState.CHECKED_OUT),
    LoanAction.RETURN: (frozenset({LoanState.CHECKED_OUT}), LoanState.RETURNED),
}


def parse_reason(text: str) -> LoanReason:
    try:
        return LoanReason(text.strip().lower())
    except ValueError:
        raise InvalidInputError(f"unknown loan reason {text!r}",
                                hint="one of: dispute, audit, business") from None


def next_state(state: LoanState, action: LoanAction, *, role: Role, actor: str,
               requester: str, reason: str = "") -> LoanState:
    """The state after ``action``, or an error saying why it is not allowed.

    Four-eyes: the archivist who approves cannot be the one who asked. Only the
    requester (or the archive room) may cancel; only the archive room does the rest.
    """
    sources, target = _MOVES[action]
    if state not in sources:
        raise ConflictError(f"cannot {action} a loan that is {state}")
    if action is LoanAction.CANCEL:
        if actor != requester and role not in LENDING_ROLES:
            raise PermissionDeniedError("only the requester or the archive room can cancel")
        return target
    if role not in LENDING_ROLES:
        raise PermissionDeniedError(f"role {role} cannot {action} loans")
    if action is LoanAction.APPROVE and actor == requester:
        raise PermissionDeniedError("four-eyes: a request cannot be approved by its requester")
    if action is LoanAction.REJECT and not reason.strip():
        raise InvalidInputError("a rejection needs a reason")
    return target


def due_date(checked_out_at: datetime, reason: LoanReason, days: int | None = None) -> datetime:
    n = DEFAULT_LOAN_DAYS[reason] if days is None else days
    if not 1 <= n <= MAX_LOAN_DAYS:
        raise InvalidInputError(f"loan period must be 1–{MAX_LOAN_DAYS} days, got {n}")
    return checked_out_at + timedelta(days=n)


def as_utc(dt: datetime) -> datetime:
    """Every stored time is UTC, but SQLite hands datetimes back without a zone."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def is_overdue(state: str, due_at: datetime | None, now: datetime) -> bool:
    return (state == LoanState.CHECKED_OUT and due_at is not None
            and as_utc(now) > as_utc(due_at))


def days_overdue(due_at: datetime, now: datetime) -> int:
    """Whole days past due, counting a started day: 1 minute late is 1 day late."""
    late = as_utc(now) - as_utc(due_at)
    return max(0, late.days + (1 if late.seconds or late.microseconds else 0))


def display_state(state: str, due_at: datetime | None, now: datetime) -> str:
    return "overdue" if is_overdue(state, due_at, now) else state
