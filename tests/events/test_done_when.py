"""Issue 19's "Done when", through the API: a new-connection acceptance event for a new
customer opens a task; the scan arrives by folder (``dms ingest``) and lands on that
business with its type; the checklist gap, reminders and time limit follow; the item is
returned once, urged again, passes all gates and is archived only after it is shelved."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.cli import cli
from dms.db.models import Business, Customer, Document, Task, User
from dms.db.models_lifecycle import Urge
from dms.services.container import Services
from dms.services.events import create_system_token
from dms.services.reminders import run_sweep
from dms.web import create_app
from tests.ingest.conftest import pdf_bytes
from tests.lifecycle.conftest import PASSWORD, state_of

CUSTOMER, BUSINESS = "3701999999", "YK2026009001"


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"username": username,
                                       "password": PASSWORD}).status_code == 302
    return client


def scan(services: Services, root: Path, files: dict[str, str],
         monkeypatch: pytest.MonkeyPatch) -> None:
    """A scanner station's folder, laid out as in the README, with a manifest naming each
    file's document type; ingested by the real command."""
    folder = root / f"{CUSTOMER}_王五" / BUSINESS
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["path,customer_no,business_no,doc_type,customer_name,business_type"]
    for name, code in files.items():
        (folder / name).write_bytes(pdf_bytes(text=name, seed=hash(name) % 1000))
        lines.append(f"{CUSTOMER}_王五/{BUSINESS}/{name},{CUSTOMER},{BUSINESS},{code},,")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("DMS_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("DMS_DATABASE_URL", services.settings.database_url)
    result = CliRunner().invoke(cli, ["ingest", str(root), "--json"])
    assert result.exit_code == 0, result.output


def gaps(client: FlaskClient) -> dict[str, str]:
    text = client.get(f"/reports/gaps?format=csv&customer={CUSTOMER}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {r["资料代码"]: r["状态"] for r in rows}


def test_new_connection_from_event_to_shelf(sqlite_services: Services, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    svc = sqlite_services
    app = create_app(svc.settings, services=svc)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    token = create_system_token(svc, "yingxiao")
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) - timedelta(hours=8)  # 09:00 Beijing
    # 1. The marketing system announces the acceptance of a new connection for a new
    #    customer: the archive creates the customer and opens the handler's task.
    r = app.test_client().post("/api/v1/events", headers={"Authorization": f"Bearer {token}"},
                               json={"event_id": "YX-1", "customer_no": CUSTOMER,
                                     "customer_name": "王五", "customer_kind": "resident",
                                     "customer_address": "济南市历下区解放路1号",
                                     "business_no": BUSINESS, "business_type": "LV_RES_NEW",
                                     "step": "accept", "completed_at": "2026-03-02T09:00+08:00",
                                     "handler": "h1", "team": "YYB"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["documents"] == ["YDSQS", "SFZM", "CQZM"]
    with svc.sessions() as s:
        b = s.scalar(select(Business).where(Business.business_no == BUSINESS))
        assert b is not None and b.step_due_at is not None  # the scheme step's time limit
        assert b.current_step == "scheme"
    # 2. The scan arrives by folder and lands on that business, with its type.
    scan(svc, tmp_path / "station", {"申请书.pdf": "YDSQS", "身份证.pdf": "SFZM"}, monkeypatch)
    with svc.sessions() as s:
        c = s.scalar(select(Customer).where(Customer.customer_no == CUSTOMER))
        assert c is not None and c.name == "王五"
        docs = s.scalars(select(Document).where(Document.customer_id == c.id)).all()
        b = s.scalar(select(Business).where(Business.business_no == BUSINESS))
        assert b is not None and b.business_type == "LV_RES_NEW"
        assert {d.business_id for d in docs} == {b.id} and len(docs) == 2
    # 3. The checklist gap: the proof of property is missing, so sending is refused.
    archivist = login(app, "a1")
    assert gaps(archivist)["CQZM"] == "缺失"
    handler = login(app, "h1")
    handler.post(f"/archive/items/{BUSINESS}/pass")  # digitised (by hand: no OCR run here)
    refused = handler.post(f"/archive/items/{BUSINESS}/pass", follow_redirects=True)
    assert "CQZM" in refused.text or "missing" in refused.text
    assert state_of(svc, BUSINESS) == "pending_send"
    # 4. Reminders: 48 hours after the step, the handler is urged, naming what is missing.
    report = run_sweep(svc, t0 + timedelta(hours=48))
    assert report.urges == 1
    page = handler.get(f"/archive/items/{BUSINESS}").text
    assert "第1次催办" in page and svc.checklist.document_types["CQZM"].name in page
    # 5. The missing paper arrives; the handler sends; the collector returns it once.
    scan(svc, tmp_path / "station2", {"房产证.pdf": "CQZM"}, monkeypatch)
    assert "CQZM" not in {k for k, v in gaps(archivist).items() if v == "缺失"}
    handler.post(f"/archive/items/{BUSINESS}/pass")
    assert state_of(svc, BUSINESS) == "pending_review"
    collector = login(app, "c1")
    collector.post(f"/archive/items/{BUSINESS}/return", data={"reason": "身份证复印件不清晰"})
    assert state_of(svc, BUSINESS) == "pending_send"
    # 6. Urged again: the returned item's task is open, with a fresh 48 hours.
    with svc.sessions() as s:
        task = s.scalar(select(Task).where(Task.kind == "digitise"))
        assert task is not None and task.status == "open" and task.due_at is not None
        due = task.due_at.replace(tzinfo=UTC)
    again = due + timedelta(minutes=1)
    assert run_sweep(svc, again).urges >= 1  # (the transfer task is long overdue too)
    with svc.sessions() as s:
        latest = s.execute(select(Urge.urge_no, User.username).join(
            User, User.id == Urge.recipient_id).where(Urge.kind == "digitise", Urge.at == again)
        ).all()
    assert [tuple(r) for r in latest] == [(1, "h1")]  # urging started over
    # 7. All gates: sent, reviewed (another person), received; archived only when shelved.
    handler.post(f"/archive/items/{BUSINESS}/pass")
    collector.post(f"/archive/items/{BUSINESS}/pass")
    archivist.post(f"/archive/items/{BUSINESS}/pass")
    assert state_of(svc, BUSINESS) == "pending_shelving"
    r = archivist.post(f"/archive/items/{BUSINESS}/pass", data={"location": ""},
                       follow_redirects=True)
    assert "location" in r.text and state_of(svc, BUSINESS) == "pending_shelving"
    archivist.post(f"/archive/items/{BUSINESS}/pass", data={"location": "R01-J03-A-05-2"})
    assert state_of(svc, BUSINESS) == "archived"
    with svc.sessions() as s:
        assert set(s.scalars(select(Task.status))) == {"done"}
