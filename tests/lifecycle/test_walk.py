"""Every business type through all its steps and all gates; returns, four-eyes,
completeness, team scope; tasks born from events."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dms.db.models import AuditEvent, Business, BusinessStepDone, Task
from dms.db.session import session_scope
from dms.domain.lifecycle import State
from dms.domain.reminders import steps_of
from dms.errors import LifecycleError, PermissionDeniedError
from dms.services import lifecycle
from dms.services.container import Services
from dms.services.users import create_user
from tests.lifecycle.conftest import PASSWORD, add_document, at, event, send, state_of


def gate(services: Services, business_no: str, username: str, now: datetime,
         location: str = "") -> str:
    with session_scope(services.sessions) as s:
        b = lifecycle.get_business(s, business_no)
        u = s.scalar(select(lifecycle.User).where(lifecycle.User.username == username))
        assert u is not None
        return lifecycle.pass_gate(s, services.checklist, b, u, now, location=location).target


def give_back(services: Services, business_no: str, username: str, reason: str,
              now: datetime) -> str:
    with session_scope(services.sessions) as s:
        b = lifecycle.get_business(s, business_no)
        u = s.scalar(select(lifecycle.User).where(lifecycle.User.username == username))
        assert u is not None
        return lifecycle.return_item(s, b, u, reason, now).target


def digitised(services: Services, business_no: str, now: datetime) -> None:
    # What the OCR flow does when a document of the business has been read.
    with session_scope(services.sessions) as s:
        lifecycle.mark_digitised(s, lifecycle.get_business(s, business_no), now)


@pytest.mark.slow
def test_each_business_type_walks_every_step_and_gate(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    for n, bt in enumerate(services.checklist.business_types):
        no = f"YK20260{n:05d}"
        agent = bt == "TRANSFER"  # one type applies through an agent: SQWTS required
        for i, step in enumerate(steps_of(services.checklist, bt)):
            now = t0 + timedelta(days=i)
            r = send(services, event(f"{no}-{step}", step, now.isoformat(), business_no=no,
                                     business_type=bt, customer_no="3301000002",
                                     agent_applied=agent), now=now)
            assert r.status == "accepted"
            if not r.documents:  # a step without paper leaves the item where it is
                continue
            assert state_of(services, no) == State.PENDING_ADD
            *first, last = r.documents
            for code in first:
                add_document(services, no, code)
            digitised(services, no, now)
            with pytest.raises(LifecycleError, match=last):  # completeness blocks sending
                gate(services, no, "h1", now)
            add_document(services, no, last)
            assert gate(services, no, "h1", now) == State.PENDING_REVIEW
            assert gate(services, no, "c1", now) == State.PENDING_TRANSFER
            assert gate(services, no, "a1", now) == State.PENDING_SHELVING
            assert gate(services, no, "a1", now, "r01-j03-a-05-2") == State.ARCHIVED
        assert state_of(services, no) == State.ARCHIVED
        with services.sessions() as s:
            b = lifecycle.get_business(s, no)
            assert lifecycle.missing_documents(s, services.checklist, b) == []
            assert b.current_step is None and b.step_due_at is None  # the business is done
            assert s.scalar(select(func.count()).select_from(Task).where(
                Task.business_id == b.id, Task.status == "open")) == 0
            moves = s.execute(select(AuditEvent.from_state, AuditEvent.to_state).where(
                AuditEvent.entity_id == no, AuditEvent.action == "transition")).all()
            assert ("pending_shelving", "archived") in moves
            if agent:
                assert "SQWTS" in services.checklist.required_for(bt, agent=True)


def test_return_with_reason_goes_one_step_back_and_is_audited(services: Services) -> None:
    now = at("2026-03-02 09:00")
    r = send(services, event("E1", "accept", now.isoformat()), now=now)
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", now)
    gate(services, "YK2026000001", "h1", now)
    with pytest.raises(LifecycleError, match="reason"):
        give_back(services, "YK2026000001", "c1", "  ", now)
    assert give_back(services, "YK2026000001", "c1", "身份证复印件模糊", now) == \
        State.PENDING_SEND
    with services.sessions() as s:
        last = s.scalars(select(AuditEvent).where(AuditEvent.entity_id == "YK2026000001")
                         .order_by(AuditEvent.id.desc())).first()
        assert last is not None
        assert (last.actor, last.from_state, last.to_state, last.reason) == \
            ("c1", "pending_review", "pending_send", "身份证复印件模糊")
    # The handler cannot return from the collector's state; the archivist can from hers.
    gate(services, "YK2026000001", "h1", now)
    gate(services, "YK2026000001", "c1", now)
    with pytest.raises(PermissionDeniedError):
        give_back(services, "YK2026000001", "h1", "不对", now)
    assert give_back(services, "YK2026000001", "a1", "纸质原件缺页", now) == \
        State.PENDING_REVIEW


def test_four_eyes_and_team_scope(services: Services) -> None:
    with session_scope(services.sessions) as s:
        create_user(s, "root", PASSWORD, "admin")
    now = at("2026-03-02 09:00")
    r = send(services, event("E1", "accept", now.isoformat()), now=now)
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", now)
    assert gate(services, "YK2026000001", "root", now) == State.PENDING_REVIEW
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        gate(services, "YK2026000001", "root", now)
    with pytest.raises(PermissionDeniedError, match="another team"):
        gate(services, "YK2026000001", "c2", now)
    with pytest.raises(PermissionDeniedError):  # a handler cannot review
        gate(services, "YK2026000001", "h2", now)
    assert gate(services, "YK2026000001", "c1", now) == State.PENDING_TRANSFER


def test_event_creates_task_listing_paper_and_what_is_present(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("E1", "accept", t0.isoformat()), now=t0)
    add_document(services, "YK2026000001", "GYDHT")  # the contract came early
    t1 = t0 + timedelta(days=3)
    r = send(services, event("E2", "contract", t1.isoformat(), handler="h2"), now=t1)
    assert r.documents == ["GYDHT"] and r.present == ["GYDHT"]
    with services.sessions() as s:
        task = s.get(Task, r.task_id)
        assert task is not None and task.kind == "digitise" and task.step == "contract"
        assert task.details == {"documents": ["GYDHT"], "present": ["GYDHT"]}
        assert task.due_at is not None
        assert lifecycle.as_utc(task.due_at) == t1 + timedelta(hours=48)
        b = lifecycle.get_business(s, "YK2026000001")
        assert s.scalar(select(func.count()).select_from(BusinessStepDone)
                        .where(BusinessStepDone.business_id == b.id)) == 2


def test_a_later_step_reopens_an_archived_item_for_its_new_paper(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    r = send(services, event("E1", "accept", t0.isoformat()), now=t0)
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", t0)
    for who in ("h1", "c1", "a1"):
        gate(services, "YK2026000001", who, t0)
    gate(services, "YK2026000001", "a1", t0, "R01-J01-A-01-1")
    assert state_of(services, "YK2026000001") == State.ARCHIVED
    send(services, event("E2", "contract", (t0 + timedelta(days=5)).isoformat()), now=t0)
    assert state_of(services, "YK2026000001") == State.PENDING_ADD
    with services.sessions() as s:
        assert s.scalar(select(Business.archive_state)) == "pending_add"
