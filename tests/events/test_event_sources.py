"""Events from the marketing system create customers, type scanned businesses, keep real
conflicts for an administrator, and do not reject an unknown handler."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dms.db.models import Business, Customer, Task, User
from dms.db.models_events import ExternalHandler
from dms.db.models_lifecycle import InboundEvent
from dms.db.session import session_scope
from dms.errors import ConflictError, InvalidInputError
from dms.services.container import Services
from dms.services.reconcile import (apply_rejected, dismiss_rejected, map_handler,
                                    reconciliation)
from dms.services.reminders import run_sweep
from tests.lifecycle.conftest import add_document, at, event, send, user


def scanned_business(services: Services, business_no: str, customer_no: str) -> None:
    """What a scanner folder without a type leaves behind (ingest/writer.py): a customer
    known by number only and a business with no type."""
    with session_scope(services.sessions) as s:
        c = s.scalar(select(Customer).where(Customer.customer_no == customer_no))
        if c is None:
            c = Customer(customer_no=customer_no)
            s.add(c)
            s.flush()
        s.add(Business(business_no=business_no, customer_id=c.id, business_type=""))


def test_an_event_for_a_new_customer_creates_it_and_opens_the_task(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    r = send(services, event("N1", "accept", t0.isoformat(), customer_no="3301009999",
                             business_no="YK2026000101", customer_name="王五",
                             customer_address="济南市历下区解放路1号",
                             customer_kind="resident"), now=t0)
    assert r.status == "accepted" and r.documents == ["YDSQS", "SFZM", "CQZM"]
    with services.sessions() as s:
        c = s.scalar(select(Customer).where(Customer.customer_no == "3301009999"))
        assert c is not None
        assert (c.name, c.address, c.kind) == ("王五", "济南市历下区解放路1号", "resident")
        assert c.team_id is not None  # the event's team
        task = s.get(Task, r.task_id)
        assert task is not None and task.status == "open"


def test_a_scanned_business_takes_its_type_from_the_first_event(services: Services) -> None:
    scanned_business(services, "YK2026000102", "3301008888")
    t0 = at("2026-03-02 09:00")
    r = send(services, event("T1", "accept", t0.isoformat(), customer_no="3301008888",
                             business_no="YK2026000102", customer_name="赵六"), now=t0)
    assert r.status == "accepted" and r.documents == ["YDSQS", "SFZM", "CQZM"]
    with services.sessions() as s:
        b = s.scalar(select(Business).where(Business.business_no == "YK2026000102"))
        assert b is not None and b.business_type == "LV_RES_NEW"
        assert b.current_step is not None  # the checklist and the time limit apply now
        c = s.get(Customer, b.customer_id)
        assert c is not None and c.name == "赵六"  # an empty name is filled in


def test_a_real_conflict_is_rejected_with_both_values_and_resolved_by_an_admin(
        services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("C1", "accept", t0.isoformat()), now=t0)
    with pytest.raises(ConflictError) as exc:
        send(services, event("C2", "scheme", t0.isoformat(), business_type="LV_NONRES_NEW"),
             now=t0)
    assert "LV_RES_NEW" in exc.value.message and "LV_NONRES_NEW" in exc.value.message
    with pytest.raises(ConflictError) as exc:
        send(services, event("C3", "scheme", t0.isoformat(), customer_no="3301000002"), now=t0)
    assert "3301000001" in exc.value.message and "3301000002" in exc.value.message
    with services.sessions() as s:
        rejected = s.scalars(select(InboundEvent).where(InboundEvent.status == "rejected")
                             .order_by(InboundEvent.id)).all()
        assert [r.event_id for r in rejected] == ["C2", "C3"]
        ids = [r.id for r in rejected]
        assert [r["event_id"] for r in reconciliation(s).rejected] == ["C2", "C3"]
    admin, handler = user(services, "a1"), user(services, "h1")
    with services.sessions() as s:
        admin_user = User(username="root", display_name="管理员", password_hash="x",
                          role="admin")
        s.add(admin_user)
        s.commit()
        s.refresh(admin_user)
    with pytest.raises(Exception, match="cannot reconcile"):
        apply_rejected(services, ids[0], handler)
    with pytest.raises(Exception, match="cannot reconcile"):
        dismiss_rejected(services, ids[0], admin, "无")  # an archivist is not an admin
    assert apply_rejected(services, ids[0], admin_user, reason="营销系统为准") == "YK2026000001"
    with pytest.raises(InvalidInputError, match="reason"):
        dismiss_rejected(services, ids[1], admin_user, "  ")
    dismiss_rejected(services, ids[1], admin_user, "户号录入错误，营销系统已更正")
    with services.sessions() as s:
        b = s.scalar(select(Business).where(Business.business_no == "YK2026000001"))
        assert b is not None and b.business_type == "LV_NONRES_NEW"
        rows = {r.event_id: r for r in s.scalars(select(InboundEvent))}
        assert (rows["C2"].status, rows["C2"].resolution) == ("accepted", "applied")
        assert (rows["C3"].resolution, rows["C3"].resolved_by) == ("dismissed", "root")
        assert reconciliation(s).rejected == []
    with pytest.raises(ConflictError, match="already resolved"):
        dismiss_rejected(services, ids[1], admin_user, "again")


def test_an_unknown_handler_goes_to_the_team_queue_until_mapped(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    r = send(services, event("H1", "accept", t0.isoformat(), handler="YX0042"), now=t0)
    assert r.status == "accepted"
    with services.sessions() as s:
        task = s.get(Task, r.task_id)
        assert task is not None and task.assignee_id is None and task.team_id is not None
        assert task.details["external_handler"] == "YX0042"
        ext = s.scalar(select(ExternalHandler))
        assert ext is not None and (ext.external_id, ext.user_id) == ("YX0042", None)
        assert [u["external_id"] for u in reconciliation(s).unmapped] == ["YX0042"]
    # The team's queue: the collector is urged, and the urge is delivered.
    report = run_sweep(services, t0 + timedelta(hours=48))
    assert report.urges == 1
    with session_scope(services.sessions) as s:
        admin = User(username="root", display_name="管理员", password_hash="x", role="admin")
        s.add(admin)
        s.flush()
        assert map_handler(s, ext.id, "h2", admin, t0 + timedelta(hours=49)) == 1
    with services.sessions() as s:
        task = s.get(Task, r.task_id)
        h2 = s.scalar(select(User).where(User.username == "h2"))
        assert task is not None and h2 is not None and task.assignee_id == h2.id
        b = s.scalar(select(Business).where(Business.business_no == "YK2026000001"))
        assert b is not None and b.handler_id == h2.id
        assert reconciliation(s).unmapped == []
    # A later event naming the same external id goes to the mapped user directly.
    add_document(services, "YK2026000001", "YDSQS")
    r2 = send(services, event("H2", "contract", (t0 + timedelta(days=1)).isoformat(),
                              handler="YX0042"), now=t0 + timedelta(days=1))
    with services.sessions() as s:
        task2 = s.get(Task, r2.task_id) if r2.task_id else None
        assert task2 is not None and task2.assignee_id == h2.id


def test_reconciliation_lists_untyped_businesses_and_unnamed_scanned_customers(
        services: Services) -> None:
    scanned_business(services, "YK2026000103", "3301007777")
    with session_scope(services.sessions) as s:
        b = s.scalar(select(Business).where(Business.business_no == "YK2026000103"))
        assert b is not None
        b.business_type = "LV_RES_NEW"  # typed by folder name, but no event ever named it
    add_document(services, "YK2026000103", "YDSQS")
    scanned_business(services, "YK2026000104", "3301006666")
    with services.sessions() as s:
        rec = reconciliation(s)
    assert [r["business_no"] for r in rec.untyped] == ["YK2026000104"]
    assert [r["customer_no"] for r in rec.without_events] == ["3301007777"]
    t0 = at("2026-03-02 09:00")
    send(services, event("R1", "accept", t0.isoformat(), customer_no="3301007777",
                         business_no="YK2026000103"), now=t0)
    send(services, event("R2", "accept", t0.isoformat(), customer_no="3301006666",
                         business_no="YK2026000104"), now=t0)
    with services.sessions() as s:
        rec = reconciliation(s)
    assert rec.untyped == [] and rec.without_events == []


def test_concurrent_events_for_one_new_customer_are_all_accepted(services: Services) -> None:
    """Several businesses of a new customer announced at once by an unknown handler: the
    one that creates the customer (and the handler record) first wins the insert, the
    others apply again and find them; none is taken for a duplicate."""
    import threading

    t0 = at("2026-03-02 09:00")
    barrier = threading.Barrier(4)
    results: list[str] = []
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        barrier.wait()
        try:
            r = send(services, event(f"P{n}", "accept", t0.isoformat(), customer_no="3301005555",
                                     business_no=f"YK20260005{n:02d}", handler="YX0777",
                                     customer_name="并发客户"), now=t0)
            results.append(r.status)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == [] and results == ["accepted"] * 4
    with services.sessions() as s:
        assert len(s.scalars(select(Customer).where(
            Customer.customer_no == "3301005555")).all()) == 1
        assert len(s.scalars(select(ExternalHandler)).all()) == 1
        assert len(s.scalars(select(Business).where(
            Business.business_no.like("YK20260005%"))).all()) == 4
