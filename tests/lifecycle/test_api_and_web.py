"""The inbound events API (token, idempotency, validation, kept rejections), the CLI
import, and the screens: inbox on the home page, item page, gate actions, review queue."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dms.db.models import BusinessStepDone, Task
from dms.db.models_lifecycle import InboundEvent
from dms.services.container import Services
from dms.services.events import create_system_token
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, add_document, event, state_of


@pytest.fixture
def app(sqlite_services: Services) -> Flask:
    app = create_app(sqlite_services.settings, services=sqlite_services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    return app


@pytest.fixture
def token(sqlite_services: Services) -> str:
    return create_system_token(sqlite_services, "yingxiao")


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302
    return client


def post(client: FlaskClient, payload: object, token: str | None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = client.post("/api/v1/events", json=payload, headers=headers)
    return r.status_code, r.get_json()


def kept(services: Services) -> list[tuple[str, str]]:
    with services.sessions() as s:
        return [(r.status, r.error_code) for r in s.execute(
            select(InboundEvent.status, InboundEvent.error_code).order_by(InboundEvent.id))]


def test_events_api_token_idempotency_and_validation(app: Flask, token: str,
                                                     sqlite_services: Services) -> None:
    client = app.test_client()
    ok = event("E1", "accept", "2026-03-02T09:00:00+08:00")
    assert post(client, ok, None)[0] == 401
    assert post(client, ok, "wrong-token")[0] == 401
    status, body = post(client, ok, token)
    assert status == 201 and body["status"] == "accepted" and body["state"] == "pending_add"
    assert body["documents"] == ["YDSQS", "SFZM", "CQZM"] and body["present"] == []
    status, body = post(client, ok, token)  # the same event again changes nothing
    assert status == 200 and body["status"] == "duplicate"
    with sqlite_services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BusinessStepDone)) == 1
        assert s.scalar(select(func.count()).select_from(Task)) == 2  # digitise + transfer
    status, body = post(client, {**ok, "handler": "h2"}, token)
    assert status == 409 and "different content" in body["error"]["message"]
    for bad, word in ((event("E3", "accept", "2026-03-02", business_type="NOPE"), "business type"),
                      (event("E4", "dance", "2026-03-02"), "business step"),
                      ({"event_id": "E6"}, "missing fields"),
                      (event("E7", "accept", "2026-03-02", business_no="YK2026000009",
                             business_type="HV_NEW"), "")):
        status, body = post(client, bad, token)
        if not word:
            assert status == 201
            continue
        assert status == 400, body
        assert word in body["error"]["message"] and body["error"]["code"] == "invalid_input"
    status, body = post(client, event("E8", "accept", "2026-03-03"), token)
    assert status == 409 and "already completed" in body["error"]["message"]
    r = client.post("/api/v1/events", data="not json", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
    assert r.status_code == 400
    assert kept(sqlite_services) == [
        ("accepted", ""), ("rejected", "conflict"), ("rejected", "invalid_input"),
        ("rejected", "invalid_input"), ("rejected", "invalid_input"), ("accepted", ""),
        ("rejected", "conflict"), ("rejected", "invalid_input")]
    admin_view = login(app, "a1").get("/archive/events?status=rejected")
    assert admin_view.status_code == 200 and "unknown business type" in admin_view.text


def test_cli_import_backfills_csv_and_json(sqlite_services: Services, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from dms.cli import cli

    monkeypatch.setenv("DMS_DATA_DIR", str(sqlite_services.settings.data_dir))
    monkeypatch.setenv("DMS_DATABASE_URL", sqlite_services.settings.database_url)
    csv_file = tmp_path / "history.csv"
    fields = ["event_id", "customer_no", "business_no", "business_type", "step", "completed_at",
              "handler", "team"]
    rows = [event("H2", "scheme", "2025-06-03T10:00:00+08:00"),
            event("H1", "accept", "2025-06-01T10:00:00+08:00"),
            event("H3", "accept", "2025-06-01", business_type="NOPE")]
    csv_file.write_text("\n".join([",".join(fields)] + [",".join(str(r[f]) for f in fields)
                                                        for r in rows]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["events", "import", str(csv_file)], obj=None)
    assert result.exit_code == 0, result.output
    assert "accepted 2, duplicates 0, rejected 1" in result.output
    json_file = tmp_path / "history.json"
    json_file.write_text(json.dumps({"events": rows[:2]}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["events", "import", str(json_file)])
    assert "accepted 0, duplicates 2, rejected 0" in result.output
    result = CliRunner().invoke(cli, ["reminders", "sweep", "--now", "2025-06-20T00:00+08:00"])
    assert result.exit_code == 0 and "urges 2" in result.output, result.output


def test_inbox_item_page_gates_and_bulk_review(app: Flask, token: str,
                                               sqlite_services: Services) -> None:
    api = app.test_client()
    for n in (1, 2):
        no = f"YK202600000{n}"
        post(api, event(f"E{n}", "accept", "2026-03-02T09:00:00+08:00", business_no=no), token)
    handler = login(app, "h1")
    home = handler.get("/")
    assert home.status_code == 200
    assert 'data-category="pending_add"' in home.text and "YK2026000001" in home.text
    # The item page says exactly which documents are missing.
    add_document(sqlite_services, "YK2026000001", "YDSQS")
    page = handler.get("/archive/items/YK2026000001")
    assert 'data-code="SFZM"' in page.text and 'data-code="CQZM"' in page.text
    handler.post("/archive/items/YK2026000001/pass")  # digitised (by hand)
    refused = handler.post("/archive/items/YK2026000001/pass", follow_redirects=True)
    assert "required documents are missing: SFZM, CQZM" in refused.text
    assert state_of(sqlite_services, "YK2026000001") == "pending_send"
    for no in ("YK2026000001", "YK2026000002"):
        for code in ("YDSQS", "SFZM", "CQZM"):
            add_document(sqlite_services, no, code)
        handler.post(f"/archive/items/{no}/pass")
        handler.post(f"/archive/items/{no}/pass")
        assert state_of(sqlite_services, no) == "pending_review"
    collector = login(app, "c1")
    queue = collector.get("/archive/review")
    assert "YK2026000001" in queue.text and "YK2026000002" in queue.text
    r = collector.post("/archive/review", data={"business_no": ["YK2026000002"],
                                                "action": "return", "reason": ""},
                       follow_redirects=True)
    assert "reason" in r.text and state_of(sqlite_services, "YK2026000002") == "pending_review"
    collector.post("/archive/review", data={"business_no": ["YK2026000002"],
                                            "action": "return", "reason": "申请书未签字"})
    assert state_of(sqlite_services, "YK2026000002") == "pending_send"
    collector.post("/archive/review", data={"business_no": ["YK2026000001"],
                                            "action": "accept"})
    assert state_of(sqlite_services, "YK2026000001") == "pending_transfer"
    history = handler.get("/archive/items/YK2026000002").text
    assert "申请书未签字" in history
    archivist = login(app, "a1")
    archivist.post("/archive/review", data={"business_no": ["YK2026000001"], "action": "accept"})
    archivist.post("/archive/items/YK2026000001/pass", data={"location": "R01-J01-A-01-1"})
    assert state_of(sqlite_services, "YK2026000001") == "archived"
    assert login(app, "c1").get("/archive/inbox/pending_send").status_code == 200
    en = login(app, "c1").get("/archive/inbox?lang=en")
    assert "Pending add" in en.text and "Business time limit" in en.text
