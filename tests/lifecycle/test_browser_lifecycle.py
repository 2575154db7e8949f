"""Headless Chromium against `dms serve`: one archive item from the marketing system's
event to archived, through the inbox, the item page and the review queue."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.db.migrate import upgrade
from dms.services.container import build_services
from dms.services.events import create_system_token
from dms.settings import load_settings
from tests.e2e.conftest import stop
from tests.e2e.test_browser import CHROMIUM, _free_port
from tests.lifecycle.conftest import PASSWORD, add_document, event, seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, object]]:
    root = tmp_path_factory.mktemp("lifecycle-ui")
    settings = load_settings(data_dir=root / "var", secret_key="ui", _env_file=None)
    upgrade(settings.database_url)
    services = build_services(settings)
    seed(services)
    token = create_system_token(services, "yingxiao")
    port = _free_port()
    env = {**os.environ, "DMS_DATA_DIR": str(root / "var"), "DMS_SECRET_KEY": "ui",
           "DMS_PORT": str(port)}
    log = root / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "dms", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
                            start_new_session=True)
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(Path(log).read_text(errors="replace")[-3000:]) from None
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}", token, services
    finally:
        stop(proc)
        services.close()


def test_one_item_from_event_to_archived(served: tuple[str, str, object]) -> None:
    from playwright.sync_api import sync_playwright

    base, token, services = served
    req = urllib.request.Request(
        base + "/api/v1/events", method="POST",
        data=json.dumps(event("UI-1", "accept", "2026-03-02T09:00:00+08:00")).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 201
    for code in ("YDSQS", "SFZM", "CQZM"):  # classified scans, as the OCR flow leaves them
        add_document(services, "YK2026000001", code)  # type: ignore[arg-type]
    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()

        def login(username: str) -> None:
            page.goto(base + "/logout")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
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
        browser.close()
