"""Issue 16, "One GET stops the server" and "500s instead of 4xx": every page, size, offset and
day count is bounded, every JSON body is typed, bodies are small except uploads; each bad
input is a 4xx naming the field and writes nothing."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dms.db.models import Box, Room
from dms.db.models_lifecycle import InboundEvent
from dms.services.events import create_system_token
from tests.web.conftest import Web, csrf_token, login

SAME_ORIGIN = {"Origin": "http://localhost"}
MB = 1024 * 1024


def _logged_in(web: Web, username: str = "boss") -> FlaskClient:
    c = web.client()
    login(c, username)
    return c


def _bad(r: Any, field: str, status: int = 400) -> None:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    if r.is_json:
        assert r.get_json()["field"] == field
    else:
        assert field in r.get_data(as_text=True)


@pytest.mark.parametrize("params,field", [
    ({"q": "合同", "page": "999999999999"}, "page"),  # aborted the whole process on main
    ({"q": "合同", "page": "101", "size": "100"}, "page"),  # beyond 10000 hits
    ({"q": "合同", "size": "100000"}, "size"),
    ({"q": "合同", "page": "x"}, "page"),
    ({"q": "合" * 501}, "q"),
    ({"q": "合同", "from": "2024-13-01"}, "from"),
])
def test_search_api_bounds(web: Web, params: dict[str, str], field: str) -> None:
    _bad(_logged_in(web).get("/api/v1/search", query_string=params), field)


def test_search_api_deepest_allowed_page_answers(web: Web) -> None:
    r = _logged_in(web).get("/api/v1/search", query_string={"q": "合同", "page": "100",
                                                            "size": "100"})
    assert r.status_code == 200 and r.get_json()["hits"] == []


@pytest.mark.parametrize("path,field", [
    ("/customers?page=999999999999999999999", "page"),
    ("/archive/inbox/pending_add?page=99999999999999999999", "page"),
    ("/review?page=99999999999999999999", "page"),
    ("/reports/?older_than=99999999999", "older_than"),
    ("/documents/1?page=-5", "page"),
    ("/physical/labels/boxes.pdf?codes=BX00000001&w=1e308", "w"),
    ("/physical/labels/boxes.pdf?codes=BX00000001&h=nan", "h"),
    ("/reports/gaps?customer=3301%00", "customer"),  # a NUL: a 500 on PostgreSQL
    ("/reports/gaps?customer=" + "1" * 33, "customer"),
    ("/reports/gaps?business_type=LV%20RES", "business_type"),
    ("/reports/gaps?format=csv&team=Y%0AB", "team"),
    ("/reports/?only_gaps=yes", "only_gaps"),
])
def test_page_bounds(web: Web, path: str, field: str) -> None:
    _bad(_logged_in(web).get(path), field)


@pytest.mark.parametrize("path,body,field", [
    ("/api/physical/rooms", {"name": "无编号"}, "number"),
    ("/api/physical/rooms", {"number": "一"}, "number"),
    ("/api/physical/rooms", {"number": 1, "levels": 10**9}, "levels"),
    ("/api/physical/boxes", {"count": "abc"}, "count"),
    ("/api/physical/boxes", {"count": 10**12}, "count"),
    ("/api/physical/stocktake", {"first": "x"}, "last"),
    ("/api/physical/stocktake", {"first": "a", "last": "b", "scans": "BX1"}, "scans"),
    ("/api/physical/volumes", {"title": "卷" * 5000}, "title"),
    ("/api/physical/moves", {"box": ["BX1"], "slot": "x"}, "box"),
    ("/api/physical/loans", {"volume_no": 12}, "volume_no"),
    ("/api/physical/loans/1/checkout", {"days": "many"}, "days"),
    ("/api/physical/returns", [1, 2], "body"),
])
def test_json_bodies_are_typed(web: Web, path: str, body: Any, field: str) -> None:
    c = _logged_in(web, "arch")
    _bad(c.post(path, json=body, headers=SAME_ORIGIN), field)
    with web.services.sessions() as s:  # nothing half-written
        assert s.scalar(select(func.count(Room.id))) == 0
        assert s.scalar(select(func.count(Box.id))) == 0


def _event(**over: Any) -> dict[str, Any]:
    return {"event_id": "E-1", "customer_no": "3301000001", "business_no": "YK2026000001",
            "business_type": "LV_RES_NEW", "step": "accept",
            "completed_at": "2026-03-02T09:00:00+08:00", "handler": "h1", "team": "YYB", **over}


def _rejected(web: Web) -> list[InboundEvent]:
    with web.services.sessions() as s:
        return list(s.scalars(select(InboundEvent).where(InboundEvent.status == "rejected")))


@pytest.mark.parametrize("over,field", [
    ({"completed_at": "9999-12-31T00:00:00+08:00"}, "completed_at"),
    ({"completed_at": "1066-10-14T09:00:00"}, "completed_at"),
    ({"handler": "h" * 10_000}, "handler"),
    ({"customer_name": "名" * 65}, "customer_name"),
    ({"customer_address": 12}, "customer_address"),
    ({"customer_kind": "k" * 33}, "customer_kind"),
    ({"step": None}, "step"),
    ({"unknown_key": "x" * 100_000}, "body"),  # extra keys are stored: the event is bounded
])
def test_bad_events_are_4xx_and_kept_short(web: Web, over: dict[str, Any], field: str) -> None:
    token = create_system_token(web.services, "yx")
    r = web.client().post("/api/v1/events", json=_event(**over),
                          headers={"Authorization": f"Bearer {token}"})
    _bad(r, field)
    kept = _rejected(web)
    assert len(kept) == 1 and kept[0].error_code == "invalid_input"
    assert len(str(kept[0].payload)) < 5000  # a huge field is not stored whole


def test_body_limits(web: Web) -> None:
    c = web.client()
    token = csrf_token(c)
    r = c.post("/login", data={"username": "arch", "password": "p" * (5 * MB),
                               "csrf_token": token})
    assert r.status_code == 413
    sys_token = create_system_token(web.services, "yx")
    r = web.client().post("/api/v1/events", json=_event(handler="h" * (5 * MB)),
                          headers={"Authorization": f"Bearer {sys_token}"})
    assert r.status_code == 413 and r.get_json()["field"] == "body"
    assert b"hhhhhhhhhh" not in r.data  # not echoed back
    c = _logged_in(web, "arch")
    r = c.post("/api/physical/boxes", data=b"{" + b" " * (20 * MB) + b"}",
               content_type="application/json", headers=SAME_ORIGIN)
    assert r.status_code == 413
