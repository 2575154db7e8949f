"""The one place that enforces the access policy of ``dms.domain.access`` on real objects.

Web pages, JSON APIs, token APIs, search filters, exports and the dispute view call these
functions; none of them writes a team rule out itself. A refusal is a
``PermissionDeniedError`` (403), whatever the entry point.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db.models import Box, Business, Customer, Document, Team, User, Volume
from dms.db.models_physical import Loan
from dms.domain.access import Action, Scope, in_scope, scope
from dms.errors import PermissionDeniedError


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in person, a station's or the marketing system's token."""

    subject: str            # a role, or "system"
    name: str
    user_id: int | None = None
    team_id: int | None = None
    team_code: str | None = None
    token_id: int | None = None

    @staticmethod
    def of(user: User) -> Principal:
        return Principal(user.role, user.username, user.id, user.team_id,
                         user.team.code if user.team is not None else None)


def scope_of(who: Principal, action: Action) -> Scope:
    return scope(who.subject, action)


def require(who: Principal, action: Action) -> Scope:
    """The scope ``who`` has for ``action``; refuses when it has none."""
    sc = scope_of(who, action)
    if sc is Scope.NONE:
        raise PermissionDeniedError(f"{who.name} ({who.subject}) may not {action.value}",
                                    hint="see docs/ACCESS.md")
    return sc


def visible_teams(who: Principal, action: Action) -> list[str] | None:
    """The team codes whose objects ``who`` may ``action``: None means every team, [] none.

    This is what list queries and the search filter use."""
    sc = scope_of(who, action)
    if sc is Scope.ALL:
        return None
    if sc is Scope.TEAM and who.team_code:
        return [who.team_code]
    return []


def may(who: Principal, action: Action, team_id: int | None, *, owns: bool = False) -> bool:
    return in_scope(scope_of(who, action), actor_team_id=who.team_id, object_team_id=team_id,
                    actor_owns=owns)


def check_team(who: Principal, action: Action, team_id: int | None, *,
               owns: bool = False, what: str = "object") -> None:
    if not may(who, action, team_id, owns=owns):
        raise PermissionDeniedError(f"{who.name} ({who.subject}) may not {action.value} "
                                    f"this {what}: it belongs to another team",
                                    hint="see docs/ACCESS.md")


def document_team_id(doc: Document) -> int | None:
    """A document belongs to its business's team, else its customer's."""
    return (doc.business.team_id if doc.business else None) or doc.customer.team_id


def check_document(who: Principal, action: Action, doc: Document) -> None:
    check_team(who, action, document_team_id(doc), what="document")


def check_customer(who: Principal, action: Action, customer: Customer) -> None:
    check_team(who, action, customer.team_id, what="customer")


def check_business(who: Principal, action: Action, business: Business) -> None:
    team_id = business.team_id or business.customer.team_id
    check_team(who, action, team_id, what="archive item")


def volume_team_id(session: Session, volume: Volume) -> int | None:
    """A volume belongs to its business's team, else its customer's."""
    if volume.business_id is not None:
        team = session.scalar(select(Business.team_id).where(Business.id == volume.business_id))
        if team is not None:
            return team
    return session.scalar(select(Customer.team_id).where(Customer.id == volume.customer_id))


def check_volume(session: Session, who: Principal, action: Action, volume_no: str) -> None:
    """Refuse a volume outside ``who``'s scope (an unknown volume is left to the caller)."""
    vol = session.scalar(select(Volume).where(Volume.volume_no == volume_no.strip().upper()))
    if vol is not None:
        check_team(who, action, volume_team_id(session, vol), what="volume")


def visible_volume_nos(session: Session, who: Principal, action: Action,
                       volume_nos: list[str]) -> set[str]:
    """Which of ``volume_nos`` ``who`` may ``action``."""
    if scope_of(who, action) is Scope.ALL:
        return set(volume_nos)
    vols = session.scalars(select(Volume).where(Volume.volume_no.in_(volume_nos))).all()
    return {v.volume_no for v in vols if may(who, action, volume_team_id(session, v))}


def check_box(session: Session, who: Principal, action: Action, box_code: str) -> None:
    """A team sees a box that holds one of its volumes; an empty box is the archive room's."""
    if scope_of(who, action) is Scope.ALL:
        return
    box = session.scalar(select(Box).where(Box.code == box_code.strip().upper()))
    if box is None:
        return
    vols = session.scalars(select(Volume).where(Volume.box_id == box.id)).all()
    if not any(may(who, action, volume_team_id(session, v)) for v in vols):
        raise PermissionDeniedError(f"{who.name} ({who.subject}) may not {action.value} "
                                    f"box {box.code}: it holds no volume of their team")


def loan_requester_filter(who: Principal) -> int | None:
    """None: every loan; else only the loans this person requested (scope own)."""
    sc = require(who, Action.LOAN_READ)
    return None if sc is Scope.ALL else (who.user_id if who.user_id is not None else -1)


def check_loan(session: Session, who: Principal, action: Action, loan_id: int) -> None:
    loan = session.get(Loan, loan_id)
    if loan is None:
        return
    sc = require(who, action)
    if sc is Scope.ALL or (sc is Scope.OWN and loan.requester_id == who.user_id):
        return
    raise PermissionDeniedError(f"loan {loan_id} is not {who.name}'s")


def sees_personal_data(who: Principal) -> bool:
    """Whether ID, phone and bank account numbers are shown to ``who`` unmasked."""
    return scope_of(who, Action.PII_UNMASKED) is Scope.ALL


def team_code(session: Session, team_id: int | None) -> str:
    team = session.get(Team, team_id) if team_id else None
    return team.code if team else ""
