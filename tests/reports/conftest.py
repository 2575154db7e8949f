"""A real database (SQLite file or throwaway PostgreSQL, via ``database_url``) and helpers
that write teams, businesses, completed steps, documents and audit history directly."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dms.db.migrate import upgrade
from dms.db.models import (AuditEvent, Business, BusinessStepDone, Customer, Document, Team,
                           User)
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.settings import load_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_n = itertools.count(1)


@pytest.fixture
def svc(tmp_path: Path, database_url: str) -> Iterator[Services]:
    upgrade(database_url)
    s = build_services(load_settings(data_dir=tmp_path / "var", database_url=database_url,
                                     secret_key="test" * 32, _env_file=None))
    yield s
    s.close()


@pytest.fixture
def session(svc: Services) -> Iterator[Session]:
    with session_scope(svc.sessions) as s:
        yield s


def team(s: Session, code: str, leader: str | None = None) -> Team:
    t = Team(code=code, name=f"{code}班")
    s.add(t)
    s.flush()
    if leader:
        s.add(User(username=leader, display_name=f"{leader}班长", password_hash="x",
                   role="handler", team_id=t.id, is_team_leader=True,
                   email=f"{leader}@example.com"))
    return t


def user(s: Session, name: str, t: Team) -> User:
    u = User(username=name, display_name=f"经办{name}", password_hash="x", role="handler",
             team_id=t.id)
    s.add(u)
    s.flush()
    return u


def business(s: Session, t: Team, btype: str, *, agent: bool = False,
             handler: User | None = None, steps: dict[str, datetime] | None = None,
             customer_no: str | None = None, created: datetime = T0) -> Business:
    n = next(_n)
    cno = customer_no or f"33{n:08d}"
    c = s.query(Customer).filter_by(customer_no=cno).one_or_none()
    if c is None:
        c = Customer(customer_no=cno, name=f"客户{n}", team_id=t.id, created_at=created)
        s.add(c)
        s.flush()
    b = Business(business_no=f"YW{n:08d}", customer_id=c.id, business_type=btype,
                 team_id=t.id, handler_id=handler.id if handler else None,
                 agent_applied=agent, created_at=created, state_since=created)
    s.add(b)
    s.flush()
    for step, at in (steps or {}).items():
        s.add(BusinessStepDone(business_id=b.id, step=step, completed_at=at))
    s.flush()
    return b


def doc(s: Session, b: Business, doc_type: str | None, *, confirmed: bool = True,
        confidence: float | None = 0.95) -> Document:
    n = next(_n)
    d = Document(sha256=f"{n:064x}", customer_id=b.customer_id, business_id=b.id,
                 doc_type=doc_type, type_confidence=confidence, type_confirmed=confirmed,
                 source_name=f"{n}.pdf", mime="application/pdf", size_bytes=1,
                 original_key=f"k{n}", created_at=T0)
    s.add(d)
    s.flush()
    return d


def transition(s: Session, b: Business, src: str, dst: str, at: datetime, *,
               actor: str = "h", reason: str = "") -> None:
    s.add(AuditEvent(at=at, actor=actor, action="transition", entity="business",
                     entity_id=b.business_no, from_state=src, to_state=dst, reason=reason))


def hours(h: float) -> timedelta:
    return timedelta(hours=h)
