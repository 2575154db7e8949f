"""Inbox counts and lists per role, business time limits over a holiday, urging and
escalation with a fixed clock, contract-expiry warnings from extracted dates."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dms.db.models import Document, Task
from dms.db.models_lifecycle import Urge
from dms.db.session import session_scope
from dms.services import lifecycle
from dms.services.container import Services
from dms.services.notify import LogNotifier
from dms.services.reminders import inbox_for, sweep
from tests.lifecycle.conftest import add_document, at, event, send, user
from tests.lifecycle.test_walk import digitised, gate


def inbox(services: Services, username: str, now: object):  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        return inbox_for(s, user(services, username), services.checklist, now)  # type: ignore


def run_sweep(services: Services, now: object) -> object:
    with session_scope(services.sessions) as s:
        return sweep(s, services.checklist, now, LogNotifier(services.settings))  # type: ignore


def urges(services: Services) -> list[tuple[str, int, bool, str]]:
    with services.sessions() as s:
        rows = s.execute(select(Urge.kind, Urge.urge_no, Urge.escalated, lifecycle.User.username)
                         .join(lifecycle.User, lifecycle.User.id == Urge.recipient_id)
                         .order_by(Urge.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_inbox_counts_lists_and_scopes(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("E1", "accept", t0.isoformat()), now=t0)
    send(services, event("E2", "accept", t0.isoformat(), business_no="YK2026000002",
                         customer_no="3301000002", handler="h2"), now=t0)
    r = send(services, event("E3", "accept", t0.isoformat(), business_no="YK2026000003",
                             handler="h2"), now=t0)
    for code in r.documents:
        add_document(services, "YK2026000003", code)
    digitised(services, "YK2026000003", t0)
    now = t0 + timedelta(hours=1)
    h1, c1, c2, a1 = (inbox(services, u, now) for u in ("h1", "c1", "c2", "a1"))
    assert (h1.counts["pending_add"], h1.counts["pending_send"]) == (1, 0)  # own items
    assert (c1.counts["pending_add"], c1.counts["pending_send"]) == (2, 1)  # the team's
    assert [row["business_no"] for row in c1.lists["pending_add"]] == \
        ["YK2026000001", "YK2026000002"]
    assert sum(c2.counts.values()) == 0  # another team sees nothing of this one
    assert a1.counts["pending_add"] == 2  # the archive room sees every team
    gate(services, "YK2026000003", "h2", now)
    gate(services, "YK2026000003", "c1", now)
    assert inbox(services, "a1", now).counts["pending_transfer"] == 1
    assert inbox(services, "c1", now).counts["pending_transfer"] == 1


def test_business_time_limit_across_weekend_and_holiday(services: Services) -> None:
    # Friday before 清明 (2026-04-04..06 off): 2 working days for the scheme → Wed 10:00.
    t0 = at("2026-04-03 10:00")
    send(services, event("E1", "accept", t0.isoformat()), now=t0)
    with services.sessions() as s:
        b = lifecycle.get_business(s, "YK2026000001")
        assert b.current_step == "scheme"
        assert lifecycle.as_utc(b.step_due_at) == at("2026-04-08 10:00")  # type: ignore
    assert inbox(services, "c1", at("2026-04-07 12:00")).limit_counts == \
        {"overdue": 0, "warning": 0, "normal": 1}
    warn = inbox(services, "c1", at("2026-04-08 09:00"))
    assert warn.limit_counts["warning"] == 1 and warn.counts["time_limit"] == 1
    assert warn.lists["time_limit"][0]["limit_status"] == "warning"
    late = inbox(services, "c1", at("2026-04-08 10:30"))
    assert late.limit_counts["overdue"] == 1
    assert late.lists["time_limit"][0]["limit_status"] == "overdue"
    # Completing the scheme step stops that clock; the contract step has no limit.
    send(services, event("E2", "scheme", at("2026-04-08 11:00").isoformat()),
         now=at("2026-04-08 11:00"))
    assert inbox(services, "c1", at("2026-04-20 09:00")).limit_counts == \
        {"overdue": 0, "warning": 0, "normal": 0}


def test_urging_and_escalation_with_fixed_clock(services: Services,
                                                caplog: pytest.LogCaptureFixture) -> None:
    t0 = at("2026-03-02 09:00")
    r = send(services, event("E1", "accept", t0.isoformat()), now=t0)
    assert run_sweep(services, t0 + timedelta(hours=47, minutes=59)).urges == 0  # type: ignore
    with caplog.at_level(logging.INFO, logger="dms.notify"):
        first = run_sweep(services, t0 + timedelta(hours=48))
    assert (first.urges, first.escalations) == (1, 0)  # type: ignore[attr-defined]
    assert urges(services) == [("digitise", 1, False, "h1")]
    assert "urge to h1" in caplog.text and "YK2026000001" in caplog.text
    # The same sweep again, an hour later: nothing new (idempotent until the next slot).
    assert run_sweep(services, t0 + timedelta(hours=49)).urges == 0  # type: ignore
    second = run_sweep(services, t0 + timedelta(hours=72))
    assert second.escalations == 1  # type: ignore[attr-defined]
    assert urges(services)[1:] == [("digitise", 2, False, "h1"), ("digitise", 2, True, "lead")]
    assert inbox(services, "lead", t0 + timedelta(hours=72)).urges[0]["escalated"] is True
    # The handler digitises and sends: urging of that task stops.
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", t0 + timedelta(hours=80))
    gate(services, "YK2026000001", "h1", t0 + timedelta(hours=80))
    assert run_sweep(services, t0 + timedelta(hours=96)).urges == 0  # type: ignore
    # 7 days after the step the paper must be in the archive room: the team collector is
    # urged (a team task), then the leader too.
    week = run_sweep(services, t0 + timedelta(days=7))
    assert week.urges == 1 and urges(services)[-1] == ("transfer", 1, False, "c1")  # type: ignore
    gate(services, "YK2026000001", "c1", t0 + timedelta(days=7, hours=1))
    gate(services, "YK2026000001", "a1", t0 + timedelta(days=7, hours=2))
    assert run_sweep(services, t0 + timedelta(days=9)).urges == 0  # type: ignore
    with services.sessions() as s:
        assert s.scalars(select(Task.status)).all() == ["done", "done"]


def test_contract_expiry_warnings_from_extracted_dates(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("E1", "accept", t0.isoformat()), now=t0)
    send(services, event("E2", "accept", t0.isoformat(), business_no="YK2026000002",
                         customer_no="3301000002"), now=t0)
    add_document(services, "YK2026000001", "GYDHT", {"contract_end": "2026-04-01"})
    add_document(services, "YK2026000002", "GYDHT", {"contract_end": "2026-07-01"})  # 121 d
    add_document(services, "YK2026000002", "YDSQS", {"contract_end": "2026-03-10"})  # no contract
    run_sweep(services, t0)
    box = inbox(services, "c1", t0)
    assert box.counts["contract_expiry"] == 1
    row = box.lists["contract_expiry"][0]
    assert (row["customer_no"], row["doc_type"], row["days_left"]) == ("3301000001", "GYDHT", 30)
    assert inbox(services, "c2", t0).counts["contract_expiry"] == 0  # another team's customer
    # A renewed contract supersedes the expiring one.
    add_document(services, "YK2026000001", "GYDHT", {"contract_end": "2029-03-31"})
    run_sweep(services, t0)
    assert inbox(services, "c1", t0).counts["contract_expiry"] == 0
    # A dispatch agreement (DDXY) ending soon is warned about as well.
    ddxy = add_document(services, "YK2026000002", "DDXY", {"contract_end": "2026-05-30T00:00"})
    run_sweep(services, t0)
    assert inbox(services, "a1", t0).counts["contract_expiry"] == 1
    # The classifier corrects that document's type: the warning goes away at the next sweep.
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.id == ddxy).values(doc_type="JGJY"))
    run_sweep(services, t0)
    assert inbox(services, "a1", t0).counts["contract_expiry"] == 0
