"""Overdue loans of paper originals reach the inbox: the borrower's own, all of them for
the archive room, none for anyone else; shown on the inbox page."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from dms.db.session import session_scope
from dms.domain.roles import Role
from dms.services import lending as LS
from dms.services import physical as P
from dms.services.container import Services
from dms.services.users import create_user
from dms.services.reminders import inbox_for
from tests.physical.conftest import PASSWORD, Db, seed_customer

ARCH = dict(actor="archivist", role=Role.ARCHIVIST)


def lend_out(db: Db, s: Session, customer_no: str, borrower: str, at: datetime) -> int:
    """A shelved volume of a new customer, lent to ``borrower`` and checked out at ``at``."""
    seed_customer(s, customer_no, f"客户{customer_no[-2:]}")
    P.form_volume(s, actor="archivist", customer_no=customer_no)
    loan = LS.request_loan(s, volume_no=f"JZ{customer_no}-01", user=db.user(s, borrower),
                           reason="dispute", now=at)
    LS.approve_loan(s, loan.id, now=at, **ARCH)  # type: ignore[arg-type]
    LS.check_out(s, loan.id, now=at, **ARCH)  # type: ignore[arg-type]
    return loan.id


def test_inbox_lists_overdue_loans_to_borrower_and_archive_room(db: Db) -> None:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with session_scope(db.sessions) as s:
        lend_out(db, s, "3301000011", "lawyer", t0)
        lend_out(db, s, "3301000012", "handler", t0 + timedelta(days=5))
    on_time, late = t0 + timedelta(days=29), t0 + timedelta(days=33)  # 30-day dispute loans
    with db.sessions() as s:
        def inbox(username: str, now: datetime):  # type: ignore[no-untyped-def]
            return inbox_for(s, db.user(s, username), db.checklist, now)

        assert inbox("archivist", on_time).overdue_loan_count == 0
        lawyer = inbox("lawyer", late)
        assert lawyer.overdue_loan_count == 1
        [mine] = lawyer.overdue_loans
        assert (mine.volume_no, mine.borrower, mine.days_overdue) == \
            ("JZ3301000011-01", "赵律师", 3)
        assert inbox("handler", late).overdue_loan_count == 0  # its loan is due on day 35
        room = inbox("archivist", t0 + timedelta(days=40))
        assert [o.volume_no for o in room.overdue_loans] == \
            ["JZ3301000011-01", "JZ3301000012-01"]  # most overdue first
        assert inbox("handler", t0 + timedelta(days=40)).overdue_loan_count == 1


def test_inbox_page_shows_the_overdue_loan(web_services: Services, app: Flask) -> None:
    """On the shared web fixtures (tests/conftest.py)."""
    svc = web_services
    db = Db(svc.sessions, svc.checklist)
    with session_scope(svc.sessions) as s:
        create_user(s, "archivist", PASSWORD, "archivist", display_name="王档案")
        create_user(s, "lawyer", PASSWORD, "dispute", display_name="赵律师")
        lend_out(db, s, "3301000011", "lawyer", datetime.now(UTC) - timedelta(days=40))
    client = app.test_client()
    client.post("/login", data={"username": "lawyer", "password": PASSWORD})
    page = client.get("/archive/inbox").get_data(as_text=True)
    assert 'id="list-overdue_loans"' in page and "JZ3301000011-01" in page
    # 40 days out, 30 lent: 10 or 11 days late by Beijing calendar days.
    assert re.search(r"已逾期 1[01] 天", page)
    assert 'id="overdue-loans-tile"' in client.get("/").get_data(as_text=True)
