"""Headless Chromium (Debian's) against `dms serve`: log in, open a document, search Chinese."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from dms.testing.live_server import chromium_page, live_server, log_in
from tests.e2e.conftest import PASSWORD, System

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def base_url(system: System) -> Iterator[str]:
    with live_server(system.env, system.root / "serve.log") as url:
        yield url


def test_login_open_document_and_search_chinese(base_url: str) -> None:
    with chromium_page() as page:
        page.goto(base_url + "/")
        assert "/login" in page.url
        log_in(page, "admin", PASSWORD)
        page.wait_for_selector("text=系统概况")
        # The sample customers are listed; open one and its document.
        page.click("nav >> text=客户")
        page.click("#customers tbody tr:first-child a")
        page.click("table.grid tbody a")
        page.wait_for_selector("#page-image")
        # The page image is cut from the searchable PDF on first view (then cached): wait
        # for it to load instead of reading its width while it is still on its way.
        page.wait_for_function("() => { const i = document.querySelector('#page-image');"
                               " return i && i.complete && i.naturalWidth > 0; }",
                               timeout=60_000)
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
