"""Fixtures of the physical-archive tests: a migrated database, people, customers with paper."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dms.db.migrate import upgrade
from dms.db.models import Business, Customer, Document, Team, User
from dms.db.session import make_engine, make_session_factory, session_scope
from dms.domain.checklist import Checklist, load_checklist
from dms.services.users import create_user, ensure_team
from dms.settings import DEFAULT_CONFIG_DIR

PASSWORD = "physical-pw-1"


@dataclass
class Db:
    sessions: sessionmaker[Session]
    checklist: Checklist

    def user(self, s: Session, username: str) -> User:
        u = s.scalar(select(User).where(User.username == username))
        assert u is not None
        return u


@pytest.fixture
def db(database_url: str) -> Iterator[Db]:
    """SQLite and PostgreSQL: the queries here are set-based and must work on both."""
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        create_user(s, "archivist", PASSWORD, "archivist", display_name="王档案")
        create_user(s, "archivist2", PASSWORD, "archivist", display_name="李档案")
        create_user(s, "lawyer", PASSWORD, "dispute", display_name="赵律师", team_code="FW")
        create_user(s, "handler", PASSWORD, "handler", display_name="钱经办", team_code="YYB")
        ensure_team(s, "FW").name = "法律事务部"
    yield Db(factory, load_checklist(DEFAULT_CONFIG_DIR / "checklists.yaml"))
    engine.dispose()


def seed_customer(s: Session, customer_no: str, name: str, *, business_no: str | None = None,
                  state: str = "pending_shelving", doc_types: tuple[str, ...] = ("GYDHT", "YDSQS"),
                  contract_no: str = "", team_code: str = "YYB") -> tuple[Customer, Business]:
    """A customer with one business (an archive item) and its scanned documents."""
    team = s.scalar(select(Team).where(Team.code == team_code)) or ensure_team(s, team_code)
    c = Customer(customer_no=customer_no, name=name, team_id=team.id, address="杭州市西湖区")
    b = Business(business_no=business_no or f"YK{customer_no}", customer=c,
                 business_type="LV_RES_NEW", archive_state=state, team_id=team.id)
    s.add_all([c, b])
    for i, t in enumerate(doc_types, 1):
        digest = hashlib.sha256(f"{customer_no}/{t}/{i}".encode()).hexdigest()
        facts = {"contract_no": contract_no, "contract_start": "2024-03-01"} \
            if t == "GYDHT" and contract_no else {}
        s.add(Document(sha256=digest, customer=c, business=b, doc_type=t, title=f"{t} {name}",
                       source_name=f"{customer_no}/{i:02d}_{t}.pdf", mime="application/pdf",
                       size_bytes=100, original_key=f"originals/{digest}", page_count=1,
                       ocr_status="done", facts=facts))
    s.flush()
    return c, b
