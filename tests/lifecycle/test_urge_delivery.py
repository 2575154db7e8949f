"""Urges nobody in the team can receive go to the archive room, shown as undeliverable and
never counted as sent; one urge line per business, naming its steps and missing paper."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from dms.db.models import Task, User
from dms.db.models_lifecycle import Urge
from dms.db.session import session_scope
from dms.services.container import Services
from dms.services.users import create_user, ensure_team
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, add_document, at, event, send
from tests.lifecycle.test_reminders import inbox, run_sweep


def urge_rows(services: Services) -> list[tuple[str, str, bool, int, str]]:
    with services.sessions() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(Urge.kind, User.username, Urge.delivered, Urge.urge_no, Urge.message)
            .join(User, User.id == Urge.recipient_id).order_by(Urge.id))]


def test_an_urge_nobody_in_the_team_can_receive_goes_to_the_archive_room(
        services: Services) -> None:
    with session_scope(services.sessions) as s:
        ensure_team(s, "KFB", "客服班")  # one handler, no collector, no leader
        create_user(s, "h9", PASSWORD, "handler", team_code="KFB")
    t0 = at("2026-03-02 09:00")
    send(services, event("U1", "accept", t0.isoformat(), handler="h9", team="KFB",
                         business_no="YK2026000301"), now=t0)
    first = run_sweep(services, t0 + timedelta(hours=48))
    assert (first.urges, first.undeliverable) == (1, 0)  # type: ignore[attr-defined]
    assert urge_rows(services)[-1][:3] == ("digitise", "h9", True)
    # A week on, the paper is due in the archive room: a team task, and the team has
    # nobody to take it.
    week = run_sweep(services, t0 + timedelta(days=7))
    assert week.undeliverable == 1 and week.escalations == 0  # type: ignore[attr-defined]
    assert week.urges == 1  # the handler's second digitise urge only  # type: ignore
    kind, who, delivered, _n, message = urge_rows(services)[-1]
    assert (kind, who, delivered) == ("transfer", "a1", False)
    assert "无法送达" in message and "YK2026000301" in message
    with services.sessions() as s:
        task = s.scalar(select(Task).where(Task.kind == "transfer"))
        assert task is not None and task.urge_count == 0  # not counted as sent
    box = inbox(services, "a1", t0 + timedelta(days=7))
    assert box.urges[0]["delivered"] is False
    app: Flask = create_app(services.settings, services=services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    client.post("/login", data={"username": "a1", "password": PASSWORD})
    page = client.get("/archive/items/YK2026000301").text
    assert "无法送达" in page


def test_one_urge_line_per_business_naming_steps_and_missing_documents(
        services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("D1", "accept", t0.isoformat()), now=t0)
    add_document(services, "YK2026000001", "YDSQS")
    send(services, event("D2", "contract", (t0 + timedelta(hours=1)).isoformat()),
         now=t0 + timedelta(hours=1))
    report = run_sweep(services, t0 + timedelta(hours=50))
    assert report.urges == 1  # type: ignore[attr-defined]
    rows = [r for r in urge_rows(services) if r[0] == "digitise"]
    assert len(rows) == 1
    msg = rows[0][4]
    steps, types = services.checklist.steps, services.checklist.document_types
    assert steps["accept"].name in msg and steps["contract"].name in msg
    for code in ("SFZM", "CQZM", "GYDHT"):
        assert types[code].name in msg
    assert types["YDSQS"].name not in msg  # already in the archive
    with services.sessions() as s:
        assert set(s.scalars(select(Task.urge_count).where(Task.kind == "digitise"))) == {1}
