"""Stored in UTC, shown in the deployment's zone: a step completed at 09:00+08:00 reads
09:00 in the inbox, the item page, the gap report's "open since" and its CSV/XLSX (with
the offset), never 01:00."""
from __future__ import annotations

import csv
import io

from flask import Flask
from openpyxl import load_workbook

from dms.domain.localtime import set_display_zone
from dms.services.container import Services
from dms.services.report_formats import HEADINGS_ZH
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, at, event, send


def test_a_step_completed_at_nine_beijing_time_shows_as_nine(
        sqlite_services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(sqlite_services, event("T1", "accept", "2026-03-02T09:00:00+08:00"), now=t0)
    app: Flask = create_app(sqlite_services.settings, services=sqlite_services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    client.post("/login", data={"username": "c1", "password": PASSWORD})
    inbox = client.get("/").text
    assert "2026-03-02 09:00" in inbox and "2026-03-02 01:00" not in inbox
    item = client.get("/archive/items/YK2026000001").text
    assert "2026-03-04 09:00" in item and "2026-03-04 01:00" not in item  # task due in 48 h
    client.post("/login", data={"username": "a1", "password": PASSWORD})
    page = client.get("/reports/gaps?customer=3301000001").text
    assert "2026-03-02 09:00" in page and "2026-03-02 01:00" not in page
    text = client.get("/reports/gaps?format=csv&customer=3301000001").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    col = rows[0].index(HEADINGS_ZH["open_since"])
    assert {r[col] for r in rows[1:] if r[col]} == {"2026-03-02 09:00+08:00"}
    data = client.get("/reports/gaps?format=xlsx&customer=3301000001").data
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    assert ws is not None
    cells = {r[col] for r in list(ws.iter_rows(values_only=True))[1:] if r[col]}
    assert cells == {"2026-03-02 09:00+08:00"}


def test_another_zone_is_a_setting(tmp_path, seeded_sqlite) -> None:  # type: ignore[no-untyped-def]
    from dms.services.container import build_services
    from tests.lifecycle.conftest import _sqlite_copy, make_settings

    svc = build_services(make_settings(tmp_path, _sqlite_copy(seeded_sqlite, tmp_path),
                                       time_zone="Europe/Berlin"))
    try:
        send(svc, event("T1", "accept", "2026-03-02T09:00:00+08:00"),
             now=at("2026-03-02 09:00"))
        app: Flask = create_app(svc.settings, services=svc)
        app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
        client = app.test_client()
        client.post("/login", data={"username": "c1", "password": PASSWORD})
        assert "2026-03-04 02:00" in client.get("/archive/items/YK2026000001").text
        client.post("/login", data={"username": "a1", "password": PASSWORD})
        text = client.get("/reports/gaps?format=csv&customer=3301000001").get_data(
            as_text=True)
        assert "2026-03-02 02:00+01:00" in text
    finally:
        svc.close()
        set_display_zone("Asia/Shanghai")  # the process-wide zone of the other tests
