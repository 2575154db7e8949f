"""Headless Chromium against `dms serve`: a new customer announced by the marketing system
with a handler dms does not know, a conflicting event; the administrator maps the handler
and applies the event on the 事件对账 page; the item shows its time in Beijing time, and
is archived only once a shelf location is given."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from dms.db.migrate import upgrade
from dms.db.session import session_scope
from dms.services.container import build_services
from dms.services.events import create_system_token
from dms.services.users import create_user
from dms.settings import load_settings
from dms.testing.live_server import chromium_page, live_server, log_in, settings_env
from tests.lifecycle.conftest import PASSWORD, add_document, event, seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Any]]:
    root = tmp_path_factory.mktemp("reconcile-ui")
    settings = load_settings(data_dir=root / "var", secret_key="ui" * 32, _env_file=None)
    upgrade(settings.database_url)
    services = build_services(settings)
    try:
        seed(services)
        with session_scope(services.sessions) as s:
            create_user(s, "root", PASSWORD, "admin", display_name="管理员")
        token = create_system_token(services, "yingxiao")
        with live_server(settings_env(settings), root / "serve.log") as url:
            yield url, token, services
    finally:
        services.close()


def post_event(base: str, token: str, payload: dict[str, Any]) -> int:
    req = urllib.request.Request(
        base + "/api/v1/events", method="POST", data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_admin_reconciles_and_the_item_reaches_the_shelf(
        served: tuple[str, str, Any]) -> None:
    base, token, services = served
    new = event("UI-1", "accept", "2026-03-02T09:00:00+08:00", customer_no="3701888888",
                business_no="YK2026008001", handler="YX0042", customer_name="赵六")
    assert post_event(base, token, new) == 201
    clash = event("UI-2", "scheme", "2026-03-03T09:00:00+08:00", customer_no="3701888888",
                  business_no="YK2026008001", business_type="LV_NONRES_NEW",
                  handler="YX0042")
    assert post_event(base, token, clash) == 409
    with chromium_page() as page:

        def login(username: str) -> None:
            if page.query_selector("#logout"):  # logout is a POST form with a CSRF token
                page.click("#logout")
            page.goto(base + "/login")
            log_in(page, username, PASSWORD)
            page.wait_for_selector("#inbox-counts")

        login("root")
        page.click("#nav-reconcile")
        page.wait_for_selector("#rejected")
        rejected = page.inner_text("#rejected")
        assert "LV_RES_NEW" in rejected and "LV_NONRES_NEW" in rejected
        page.select_option("#unmapped select[name=username]", "h2")
        page.click("#unmapped button")
        page.wait_for_selector("text=1 项任务已分派")
        page.click("#rejected button.apply")
        page.wait_for_selector("text=已按事件内容处理")
        assert "LV_NONRES_NEW" not in page.inner_text("#rejected")
        login("h2")  # the mapped handler now has the item, shown in Beijing time
        assert page.inner_text("[data-category=pending_add] .count") == "1"
        assert "2026-03-02 09:00" in page.inner_text("#list-pending_add")  # not 01:00
        for code in ("YDSQS", "SFZM", "YYZZ", "CQZM", "GDFA"):  # classified scans
            add_document(services, "YK2026008001", code)
        page.click("#list-pending_add a.item-link")
        page.click("#pass-gate")  # digitised
        page.wait_for_selector("#item-state[data-state=pending_send]")
        page.click("#pass-gate")  # self-check
        page.wait_for_selector("#item-state[data-state=pending_review]")
        login("c1")
        page.goto(base + "/archive/items/YK2026008001")
        page.click("#pass-gate")
        page.wait_for_selector("#item-state[data-state=pending_transfer]")
        login("a1")
        page.goto(base + "/archive/items/YK2026008001")
        page.click("#pass-gate")  # receipt
        page.wait_for_selector("#item-state[data-state=pending_shelving]")
        page.click("#pass-gate")  # no location: refused
        page.wait_for_selector(".flash.error")
        assert "location" in page.inner_text(".flash.error")
        assert page.get_attribute("#item-state", "data-state") == "pending_shelving"
        page.fill("input[name=location]", "R01-J03-A-05-2")
        page.click("#pass-gate")
        page.wait_for_selector("#item-state[data-state=archived]")
