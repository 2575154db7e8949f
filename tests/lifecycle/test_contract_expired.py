"""A contract that ended and was not renewed is warned about on its own, beside those
expiring within 90 days; a later contract of the same type clears both."""
from __future__ import annotations

from flask import Flask

from dms.services.container import Services
from dms.web import create_app
from tests.lifecycle.conftest import PASSWORD, add_document, at, event, send
from tests.lifecycle.test_reminders import inbox, run_sweep


def test_expired_and_not_renewed_is_its_own_warning(services: Services) -> None:
    t0 = at("2026-03-02 09:00")
    send(services, event("E1", "accept", t0.isoformat()), now=t0)
    send(services, event("E2", "accept", t0.isoformat(), business_no="YK2026000002",
                         customer_no="3301000002"), now=t0)
    add_document(services, "YK2026000001", "GYDHT",
                 {"contract_start": "2021-01-01", "contract_end": "2025-12-31"})  # ended
    add_document(services, "YK2026000002", "GYDHT",
                 {"contract_start": "2023-05-01", "contract_end": "2026-04-30"})  # 59 days
    run_sweep(services, t0)
    box = inbox(services, "c1", t0)
    assert box.counts["contract_expired"] == 1 and box.counts["contract_expiry"] == 1
    row = box.lists["contract_expired"][0]
    assert (row["customer_no"], row["doc_type"], row["days_left"]) == ("3301000001", "GYDHT",
                                                                     -61)
    assert box.lists["contract_expiry"][0]["customer_no"] == "3301000002"
    app: Flask = create_app(services.settings, services=services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    client.post("/login", data={"username": "c1", "password": PASSWORD})
    page = client.get("/archive/inbox/contract_expired").text
    assert "3301000001" in page and "供用电合同" in page and "已到期" in page  # real clock
    # Later contracts of the same type clear both warnings, even one whose end date was
    # not read (signed later, open-ended as far as the archive knows).
    add_document(services, "YK2026000001", "GYDHT", {"signed_date": "2026-01-15"})
    add_document(services, "YK2026000002", "GYDHT",
                 {"contract_start": "2026-05-01", "contract_end": "2031-04-30"})
    run_sweep(services, t0)
    box = inbox(services, "c1", t0)
    assert box.counts["contract_expired"] == 0 and box.counts["contract_expiry"] == 0
    # A contract of another type does not renew this one.
    add_document(services, "YK2026000002", "DDXY",
                 {"contract_start": "2020-01-01", "contract_end": "2024-12-31"})
    run_sweep(services, t0)
    assert inbox(services, "a1", t0).counts["contract_expired"] == 1
