"""The physical archive's pages and API through the Flask test client (real DB and app)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dms.db.migrate import upgrade
from dms.db.models import Box, Slot
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.users import create_user, ensure_team
from dms.settings import Settings
from dms.web.app import create_app
from tests.ingest.conftest import RecordingDispatcher
from tests.physical.conftest import PASSWORD, seed_customer


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    upgrade(settings.database_url)
    services = build_services(settings)
    with session_scope(services.sessions) as s:
        create_user(s, "archivist", PASSWORD, "archivist", display_name="王档案")
        create_user(s, "lawyer", PASSWORD, "dispute", display_name="赵律师", team_code="FW")
        ensure_team(s, "FW").name = "法律事务部"
        seed_customer(s, "3301000001", "张三", contract_no="HT-2024-0001")
        seed_customer(s, "3301000002", "张三丰")
    yield services
    services.close()


def _client(svc: Services, username: str) -> FlaskClient:
    app = create_app(svc.settings, dispatcher=RecordingDispatcher(), services=svc)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    res = client.post("/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 302
    return client


def test_room_form_box_volume_scan_and_labels(svc: Services) -> None:
    c = _client(svc, "archivist")
    res = c.post("/physical/rooms/new", data={
        "number": "1", "name": "一号档案室", "first_unit": "3", "unit_count": "1",
        "sections": "10", "levels": "6", "sides": "AB", "boxes_per_slot": "10"})
    assert res.status_code == 302
    with svc.sessions() as s:
        assert s.scalar(select(func.count(Slot.id))) == 120
    page = c.get("/physical/").get_data(as_text=True)
    assert "J03" in page and "120" in page
    res = c.post("/physical/boxes", data={"count": "2", "capacity": "5"})
    assert res.status_code == 302 and "/physical/labels/boxes.pdf" in res.location
    pdf = c.get(res.location)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    res = c.post("/physical/volumes", data={"business_no": "YK3301000001"})
    assert res.status_code == 302 and res.location.endswith("/physical/volumes/JZ3301000001-01")
    c.post("/physical/volumes/JZ3301000001-01/box", data={"box_code": "BX00000001"})
    # The scanning desk: box, then slot, records the move.
    first = c.post("/physical/scan", data={"mode": "shelve", "code": "BX00000001"})
    text = first.get_data(as_text=True)
    assert "请扫描目标库位" in text and 'name="pending_box" value="BX00000001"' in text
    second = c.post("/physical/scan", data={"mode": "shelve", "pending_box": "BX00000001",
                                            "code": "R01-J03-B-04-2"}).get_data(as_text=True)
    assert "已记录移位" in second and "R01-J03-B-04-2" in second
    assert "已归档业务 YK3301000001" in second
    with svc.sessions() as s:
        assert s.scalar(select(Slot.code).join(Box, Box.slot_id == Slot.id)) == "R01-J03-B-04-2"
    box_page = c.get("/physical/boxes/BX00000001").get_data(as_text=True)
    assert "R01-J03-B-04-2" in box_page and "JZ3301000001-01" in box_page
    api = c.get("/api/physical/locate/JZ3301000001-01").get_json()
    assert api["slot_code"] == "R01-J03-B-04-2" and api["volumes"][0]["customer_name"] == "张三"
    assert c.get("/physical/labels/volumes.pdf?codes=JZ3301000001-01&layout=a4").status_code \
        == 200
    bad = c.post("/physical/scan", data={"mode": "shelve", "code": "R01-J99-A-01-1",
                                         "pending_box": "BX00000002"}).get_data(as_text=True)
    assert "scan-answer bad" in bad and 'value="BX00000002"' in bad  # the box stays pending


def test_lending_pages_api_and_dispute_view(svc: Services) -> None:
    arch = _client(svc, "archivist")
    arch.post("/api/physical/rooms", json={"number": 1, "sections": 2, "levels": 2})
    assert arch.post("/api/physical/boxes", json={"count": 1}).status_code == 201
    res = arch.post("/api/physical/volumes", json={"customer_no": "3301000001",
                                                   "box_code": "BX00000001"})
    assert res.get_json() == {"volume_no": "JZ3301000001-01"}
    assert arch.post("/api/physical/moves", json={"box": "BX00000001",
                                                  "slot": "R01-J01-A-01-1"}).status_code == 200
    lawyer = _client(svc, "lawyer")
    assert lawyer.get("/physical/rooms/new").status_code == 403
    # Dispute view: a name leads to the customer, the contract first, and its shelf.
    many = lawyer.get("/physical/dispute?q=张三").get_data(as_text=True)
    assert 'id="matches"' in many and "张三丰" in many
    one = lawyer.get("/physical/dispute?q=HT-2024-0001").get_data(as_text=True)
    assert 'id="dispute-customer"' in one and "3301000001 张三" in one
    contracts = one.split('id="contracts"')[1].split("</table>")[0]
    assert "/documents/" in contracts and "R01-J01-A-01-1" in contracts
    assert "HT-2024-0001" in contracts
    res = lawyer.post("/physical/volumes/JZ3301000001-01/loans",
                      data={"reason": "dispute", "note": "诉讼"})
    assert res.status_code == 302
    assert "待审批" in lawyer.get("/physical/dispute?customer=3301000001").get_data(as_text=True)
    loans = arch.get("/physical/loans").get_data(as_text=True)
    assert "赵律师" in loans and "纠纷处理" in loans
    assert lawyer.post("/api/physical/loans/1/approve").status_code == 403
    assert arch.post("/api/physical/loans/1/approve").get_json()["state"] == "approved"
    out = arch.post("/api/physical/loans/1/checkout", json={"days": 5}).get_json()
    assert out["state"] == "checked_out" and out["due_at"]
    vol = lawyer.get("/physical/volumes/JZ3301000001-01").get_data(as_text=True)
    assert "赵律师" in vol and "法律事务部" in vol  # on loan: with whom
    assert arch.get("/api/physical/loans/overdue").get_json() == []
    back = arch.post("/physical/scan", data={"mode": "return", "code": "JZ3301000001-01"})
    assert "已归还" in back.get_data(as_text=True)
    report = arch.post("/api/physical/stocktake", json={
        "first": "R01-J01-A-01-1", "last": "R01-J01-A-02-2", "scans": ["BX00000777"]})
    body = report.get_json()
    assert body["clean"] is False and body["missing"] == [["BX00000001", "R01-J01-A-01-1"]]
    assert arch.post("/api/physical/moves", json={"box": "BX00000001", "slot": "bad"}) \
        .status_code == 400
