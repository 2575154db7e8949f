"""Headless Chromium against `dms serve`: a dispute handler goes from a customer's name to
the original contract's scanned page and its shelf location."""
from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import Document, Page, User
from dms.db.session import session_scope
from dms.services import physical as P
from dms.services.container import build_services
from dms.services.users import create_user
from dms.settings import load_settings
from dms.testing.live_server import chromium_page, live_server, log_in
from tests.physical.conftest import PASSWORD, seed_customer

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _page_png() -> bytes:
    im = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(im).rectangle((40, 40, 560, 120), outline="black", width=4)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _prepare(root: Path) -> None:
    """A data dir with a shelved contract: documents inserted directly, no OCR."""
    settings = load_settings(data_dir=root / "var", secret_key="b" * 32, _env_file=None)
    upgrade(settings.database_url)
    svc = build_services(settings)
    try:
        svc.store.put_bytes("pages/contract/1.png", _page_png(), "image/png")
        with session_scope(svc.sessions) as s:
            create_user(s, "archivist", PASSWORD, "archivist", display_name="王档案")
            create_user(s, "lawyer", PASSWORD, "dispute", display_name="赵律师")
            seed_customer(s, "3301000042", "钱塘电器有限公司", contract_no="HT-2023-0042")
            seed_customer(s, "3301000043", "西湖茶社", contract_no="HT-2023-0043")
            contract = s.scalar(select(Document).where(Document.doc_type == "GYDHT",
                                                       Document.title.contains("钱塘")))
            assert contract is not None
            contract.pages.append(Page(page_no=1, image_key="pages/contract/1.png",
                                       text="供用电合同 合同编号 HT-2023-0042",
                                       ocr_status="done", confidence=90.0))
            P.create_room(s, number=2, name="二号档案室", actor="archivist", first_unit=7,
                          sections=10, levels=6)
            P.form_volume(s, actor="archivist", customer_no="3301000042")
            P.create_boxes(s, count=1, actor="archivist")
            user = s.scalar(select(User).where(User.username == "archivist"))
            assert user is not None
            P.put_volume_in_box(s, volume_no="JZ3301000042-01", box_code="BX00000001",
                                user=user, checklist=svc.checklist)
            P.move_box(s, box_code="BX00000001", slot_code="R02-J07-B-03-4", user=user,
                       checklist=svc.checklist)
    finally:
        svc.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("physical-browser")
    _prepare(root)
    with live_server({"DMS_DATA_DIR": str(root / "var"), "DMS_SECRET_KEY": "b" * 32},
                     root / "serve.log") as url:
        yield url


def test_dispute_view_from_customer_name_to_contract_page_and_shelf(base_url: str) -> None:
    with chromium_page() as page:
        page.goto(base_url + "/physical/dispute")
        log_in(page, "lawyer", PASSWORD)
        page.wait_for_selector("#dispute-form")
        started = time.monotonic()
        page.fill("#dispute-form input[name=q]", "钱塘电器")
        page.press("#dispute-form input[name=q]", "Enter")
        page.wait_for_selector("#dispute-customer")
        assert "3301000042" in page.inner_text("#dispute-customer")
        row = page.locator("#contracts tbody tr").first
        assert "HT-2023-0042" in row.inner_text()
        location = row.locator(".original-location").inner_text()
        assert "R02-J07-B-03-4" in location and "BX00000001" in location
        assert time.monotonic() - started < 5  # "in seconds"
        row.locator("a.doc-link").click()
        page.wait_for_selector("#page-image")
        # The page image is cut from the searchable PDF on first view: wait for it to load.
        page.wait_for_function("() => { const i = document.querySelector('#page-image');"
                               " return i && i.complete && i.naturalWidth > 0; }",
                               timeout=60_000)
        assert page.eval_on_selector("#page-image", "img => img.naturalWidth") == 600
        assert "HT-2023-0042" in page.inner_text("#ocr-text")
        # Back on the dispute view the original can be requested with one button.
        page.go_back()
        page.locator("#contracts button").first.click()
        page.wait_for_selector("text=已提交借阅申请")
        assert "待审批" in page.locator("#contracts").inner_text()
