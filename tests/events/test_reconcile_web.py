"""The 事件对账 page (admin only: apply / dismiss rejected events, map external handlers)
and ``dms reconcile``."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.models import Business, Task
from dms.db.models_lifecycle import InboundEvent
from dms.db.session import session_scope
from dms.errors import ConflictError
from dms.services.container import Services
from dms.services.users import create_user
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, at, event, send


@pytest.fixture
def app(sqlite_services: Services) -> Flask:
    with session_scope(sqlite_services.sessions) as s:
        create_user(s, "root", PASSWORD, "admin", display_name="管理员")
    app = create_app(sqlite_services.settings, services=sqlite_services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    return app


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"username": username,
                                       "password": PASSWORD}).status_code == 302
    return client


def rejected_ids(services: Services) -> list[int]:
    with services.sessions() as s:
        return list(s.scalars(select(InboundEvent.id).where(InboundEvent.status == "rejected")
                              .order_by(InboundEvent.id)))


def test_admin_resolves_rejected_events_and_maps_handlers_in_the_ui(
        app: Flask, sqlite_services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(sqlite_services, event("W1", "accept", t0.isoformat(), handler="YX0007"), now=t0)
    for n, btype in ((2, "LV_NONRES_NEW"), (3, "HV_NEW")):
        with pytest.raises(ConflictError):
            send(sqlite_services, event(f"W{n}", "scheme", t0.isoformat(),
                                        business_type=btype), now=t0)
    assert login(app, "a1").get("/admin/events").status_code == 403  # archivist
    assert login(app, "h1").get("/admin/events").status_code == 403
    admin = login(app, "root")
    page = admin.get("/admin/events")
    assert page.status_code == 200
    assert "事件对账" in page.text and "YX0007" in page.text
    assert "LV_RES_NEW" in page.text and "LV_NONRES_NEW" in page.text
    first, second = rejected_ids(sqlite_services)
    r = admin.post(f"/admin/events/{second}/dismiss", data={"reason": ""},
                   follow_redirects=True)
    assert "reason" in r.text  # a dismissal without a reason is refused, by name
    r = admin.post(f"/admin/events/{second}/dismiss", data={"reason": "重复推送"},
                   follow_redirects=True)
    assert "已忽略" in r.text
    r = admin.post(f"/admin/events/{first}/apply", data={"reason": ""}, follow_redirects=True)
    assert "已按事件内容处理" in r.text
    with sqlite_services.sessions() as s:
        b = s.scalar(select(Business).where(Business.business_no == "YK2026000001"))
        assert b is not None and b.business_type == "LV_NONRES_NEW"
    from dms.db.models_events import ExternalHandler

    with sqlite_services.sessions() as s:
        ext_id = s.scalar(select(ExternalHandler.id))
    r = admin.post(f"/admin/events/handlers/{ext_id}/map", data={"username": "nobody"},
                   follow_redirects=True)
    assert "username" in r.text
    r = admin.post(f"/admin/events/handlers/{ext_id}/map", data={"username": "h2"},
                   follow_redirects=True)
    assert "1 项任务已分派" in r.text
    with sqlite_services.sessions() as s:
        assert s.scalar(select(Task.assignee_id).where(Task.kind == "digitise")) is not None
    page = admin.get("/admin/events").text
    assert "YX0007" not in page and "重复推送" not in page


def test_reconcile_command_lists_what_disagrees(sqlite_services: Services,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from dms.cli import cli

    t0 = at("2026-03-02 09:00")
    send(sqlite_services, event("X1", "accept", t0.isoformat(), handler="YX0009"), now=t0)
    with pytest.raises(ConflictError):
        send(sqlite_services, event("X2", "scheme", t0.isoformat(), business_type="HV_NEW"),
             now=t0)
    monkeypatch.setenv("DMS_DATA_DIR", str(sqlite_services.settings.data_dir))
    monkeypatch.setenv("DMS_DATABASE_URL", sqlite_services.settings.database_url)
    result = CliRunner().invoke(cli, ["reconcile"])
    assert result.exit_code == 0, result.output
    assert "被拒绝的事件: 1" in result.output and "HV_NEW" in result.output
    assert "未关联的营销系统经办人: 1" in result.output and "YX0009" in result.output
    result = CliRunner().invoke(cli, ["reconcile", "--json"])
    data = json.loads(result.output)
    assert [r["event_id"] for r in data["rejected"]] == ["X2"]
    assert data["untyped"] == [] and data["without_events"] == []


def test_pages_name_roles_tasks_and_history_in_chinese(app: Flask,
                                                       sqlite_services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(sqlite_services, event("L1", "accept", t0.isoformat()), now=t0)
    page = login(app, "h1").get("/archive/items/YK2026000001").text
    assert "业务经办人" in page  # the role beside the name, not "handler"
    assert "资料数字化并发送" in page and "进行中" in page and "业务环节完成" in page
    for code in (" · handler", "digitise ·", "· open ·", ">step_completed<", ">transition<"):
        assert code not in page, code
    events = login(app, "a1").get("/archive/events").text
    assert "已接收" in events and ">accepted<" not in events


def test_the_reconciliation_page_in_english(app: Flask) -> None:
    page = login(app, "root").get("/admin/events?lang=en").text
    assert "Event reconciliation" in page and "Rejected events" in page
