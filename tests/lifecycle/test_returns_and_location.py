"""Archived only with a place on the shelf; a returned item reopens its task and urging
starts again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from dms.db.models import Task
from dms.domain.lifecycle import State
from dms.errors import InvalidInputError
from dms.services.container import Services
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, add_document, at, event, send, state_of
from tests.lifecycle.test_reminders import run_sweep, urges
from tests.lifecycle.test_walk import digitised, gate, give_back


def to_shelving(services: Services, t0: object) -> None:
    r = send(services, event("E1", "accept", t0.isoformat()), now=t0)  # type: ignore
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", t0)  # type: ignore[arg-type]
    for who in ("h1", "c1", "a1"):
        gate(services, "YK2026000001", who, t0)  # type: ignore[arg-type]


def test_an_item_is_archived_only_with_a_location(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    to_shelving(services, t0)
    assert state_of(services, "YK2026000001") == State.PENDING_SHELVING
    with pytest.raises(InvalidInputError, match="location"):
        gate(services, "YK2026000001", "a1", t0)
    with pytest.raises(InvalidInputError):
        gate(services, "YK2026000001", "a1", t0, "shelf 3")
    assert state_of(services, "YK2026000001") == State.PENDING_SHELVING
    assert gate(services, "YK2026000001", "a1", t0, "R01-J03-A-05-2") == State.ARCHIVED


def test_the_web_refuses_archiving_without_a_location(sqlite_services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    to_shelving(sqlite_services, t0)
    app: Flask = create_app(sqlite_services.settings, services=sqlite_services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    client.post("/login", data={"username": "a1", "password": PASSWORD})
    r = client.post("/archive/items/YK2026000001/pass", data={"location": ""},
                    follow_redirects=True)
    assert r.status_code == 200 and "location" in r.text
    assert state_of(sqlite_services, "YK2026000001") == State.PENDING_SHELVING


def test_a_returned_item_reopens_its_task_and_is_urged_again(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    r = send(services, event("E1", "accept", t0.isoformat()), now=t0)
    for code in r.documents:
        add_document(services, "YK2026000001", code)
    digitised(services, "YK2026000001", t0 + timedelta(hours=1))
    gate(services, "YK2026000001", "h1", t0 + timedelta(hours=2))  # sent: task done
    with services.sessions() as s:
        assert s.scalar(select(Task.status).where(Task.kind == "digitise")) == "done"
    back = t0 + timedelta(days=1)
    assert give_back(services, "YK2026000001", "c1", "身份证复印件不清晰", back) == \
        State.PENDING_SEND
    with services.sessions() as s:
        task = s.scalar(select(Task).where(Task.kind == "digitise"))
        assert task is not None and task.status == "open" and task.urge_count == 0
    assert run_sweep(services, back + timedelta(hours=47)).urges == 0  # type: ignore
    assert run_sweep(services, back + timedelta(hours=48)).urges == 1  # type: ignore
    assert urges(services)[-1][:2] == ("digitise", 1)
    # Sent again: the task closes and urging stops.
    gate(services, "YK2026000001", "h1", back + timedelta(hours=50))
    assert run_sweep(services, back + timedelta(hours=80)).urges == 0  # type: ignore
