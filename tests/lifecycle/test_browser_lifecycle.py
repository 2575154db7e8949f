"""Headless Chromium against `dms serve`: one archive item from the marketing system's
event to archived, through the inbox, the item page and the review queue."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from dms.db.migrate import upgrade
from dms.services.container import build_services
from dms.services.events import create_system_token
from dms.settings import load_settings
from dms.testing.live_server import chromium_page, live_server, log_in, settings_env
from tests.lifecycle.conftest import PASSWORD, add_document, event, seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, object]]:
    root = tmp_path_factory.mktemp("lifecycle-ui")
    settings = load_settings(data_dir=root / "var", secret_key="ui" * 32, _env_file=None)
    upgrade(settings.database_url)
    services = build_services(settings)
    try:
        seed(services)
        token = create_system_token(services, "yingxiao")
        with live_server(settings_env(settings), root / "serve.log") as url:
            yield url, token, services
    finally:
        services.close()


def test_one_item_from_event_to_archived(served: tuple[str, str, object]) -> None:
    base, token, services = served
    req = urllib.request.Request(
        base + "/api/v1/events", method="POST",
        data=json.dumps(event("UI-1", "accept", "2026-03-02T09:00:00+08:00")).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 201
    for code in ("YDSQS", "SFZM", "CQZM"):  # classified scans, as the OCR flow leaves them
        add_document(services, "YK2026000001", code)  # type: ignore[arg-type]
    with chromium_page() as page:

        def login(username: str) -> None:
            if page.query_selector("#logout"):  # logout is a POST form with a CSRF token
                page.click("#logout")
            page.goto(base + "/login")
            log_in(page, username, PASSWORD)
            page.wait_for_selector("#inbox-counts")

        def state() -> str:
            return str(page.get_attribute("#item-state", "data-state"))

        login("h1")  # the inbox on login: one item pending add
        assert page.inner_text("[data-category=pending_add] .count") == "1"
        page.click("#list-pending_add a.item-link")
        assert state() == "pending_add"
        page.click("#pass-gate")  # digitised
        page.wait_for_selector("#item-state[data-state=pending_send]")
        page.click("#pass-gate")  # self-check, send to the collector
        page.wait_for_selector("#item-state[data-state=pending_review]")
        login("c1")
        page.click("#nav-gates")
        page.check("input[name=business_no][value=YK2026000001]")
        page.click("#bulk-accept")
        page.wait_for_selector("text=已通过 1")
        login("a1")
        assert page.inner_text("[data-category=pending_transfer] .count") == "1"
        page.click("#list-pending_transfer a.item-link")
        page.click("#pass-gate")  # receipt in the archive room
        page.wait_for_selector("#item-state[data-state=pending_shelving]")
        page.fill("input[name=location]", "R01-J03-A-05-2")
        page.click("#pass-gate")
        page.wait_for_selector("#item-state[data-state=archived]")
        assert "R01-J03-A-05-2" in page.inner_text("#history")
