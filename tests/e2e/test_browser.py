"""Headless Chromium (Debian's) against `dms serve`: log in, open a document, search Chinese."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import PASSWORD, System, stop

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(system: System) -> Iterator[str]:
    port = _free_port()
    env = {**system.env, "DMS_PORT": str(port)}
    log = system.root / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "dms", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def test_login_open_document_and_search_chinese(base_url: str) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is required: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        page = browser.new_page()
        page.goto(base_url + "/")
        assert "/login" in page.url
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=系统概况")
        # The sample customers are listed; open one and its document.
        page.click("nav >> text=客户")
        page.click("#customers tbody tr:first-child a")
        page.click("table.grid tbody a")
        page.wait_for_selector("#page-image")
        assert page.eval_on_selector("#page-image", "img => img.naturalWidth") > 0
        assert page.inner_text("#ocr-text").strip()
        # Search a Chinese word from the header box; the hit opens the page with highlights.
        page.fill("header input[name=q]", "合同")
        page.press("header input[name=q]", "Enter")
        page.wait_for_selector("#result-count")
        assert page.locator("li.hit").count() >= 1
        assert page.locator("li.hit mark").count() >= 1
        page.click("li.hit a.hit-link")
        page.wait_for_selector("#ocr-text mark")
        assert page.inner_text("#ocr-text mark").strip() == "合同"
        browser.close()
