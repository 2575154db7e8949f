"""End to end on the embedded default: ingest → real worker OCR → index → web."""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from dms.db.models import AuditEvent, Business, Document
from dms.web import create_app
from search import SearchQuery
from tests.e2e.conftest import PASSWORD, System

pytestmark = pytest.mark.slow


def test_every_page_is_read_and_the_searchable_pdf_holds_the_text(system: System) -> None:
    with system.services.sessions() as s:
        docs = list(s.scalars(select(Document).order_by(Document.id)))
        assert [d.ocr_status for d in docs] == ["done", "done"]
        contract = next(d for d in docs if d.mime == "application/pdf")
        assert contract.page_count == 2
        assert all(p.ocr_status == "done" and p.confidence for p in contract.pages)
        assert "合同" in "".join(p.text for p in contract.pages)
        pdf = system.root / "out.pdf"
        system.services.store.download(contract.searchable_pdf_key or "", pdf)
        # The original is untouched, beside the searchable PDF.
        assert system.services.store.size(contract.original_key) == contract.size_bytes
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "合同" in text.replace(" ", "")


def test_rotated_traditional_page_is_turned_upright(system: System) -> None:
    with system.services.sessions() as s:
        form = s.scalar(select(Document).where(Document.mime == "image/png"))
        assert form is not None
        page = form.pages[0]
        assert page.rotation in (90, 270)
        assert "申請" in page.text or "申请" in page.text


def test_digitised_items_moved_on_in_the_lifecycle_with_an_audit_entry(system: System) -> None:
    with system.services.sessions() as s:
        states = set(s.scalars(select(Business.archive_state)))
        assert states == {"pending_send"}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "transition")).all()
        assert {(e.from_state, e.to_state) for e in events} == {("pending_add", "pending_send")}


def test_a_two_character_chinese_word_finds_the_page(system: System) -> None:
    index = system.services.index
    index.refresh()
    r = index.search(SearchQuery(text="合同"))
    assert r.total >= 1
    assert "<mark>" in r.hits[0].snippet


def test_web_login_document_view_and_search(system: System) -> None:
    app = create_app(system.settings, dispatcher=system.dispatcher, services=system.services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    assert client.get("/").status_code == 302  # login first
    r = client.post("/login", data={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "系统概况" in home
    with system.services.sessions() as s:
        doc = s.scalar(select(Document).where(Document.mime == "application/pdf"))
        assert doc is not None
    page = client.get(f"/documents/{doc.id}?page=1").get_data(as_text=True)
    assert 'id="ocr-text"' in page and "合同" in page
    img = client.get(f"/documents/{doc.id}/pages/1.png")
    # A scanner's JPEG page is shown as its JPEG (taken from the searchable PDF), others PNG.
    assert img.status_code == 200
    assert (img.mimetype, img.data[:3]) in (("image/png", b"\x89PN"),
                                            ("image/jpeg", b"\xff\xd8\xff"))
    assert client.get(f"/documents/{doc.id}/original").data[:5] == b"%PDF-"
    results = client.get("/search?q=合同").get_data(as_text=True)
    assert f"/documents/{doc.id}" in results and "<mark>" in results
    api = client.get("/api/v1/search?q=合同").get_json()
    assert api["total"] >= 1
    # English UI is available.
    assert "Overview" in client.get("/?lang=en").get_data(as_text=True)


def test_team_member_does_not_see_other_teams_archive(system: System) -> None:
    app = create_app(system.settings, dispatcher=system.dispatcher, services=system.services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    client.post("/login", data={"username": "handler", "password": PASSWORD})
    api = client.get("/api/v1/search?q=合同").get_json()
    assert api["total"] == 0  # sample customers belong to no team yet
    with system.services.sessions() as s:
        doc_id = s.scalar(select(Document.id))
    assert client.get(f"/documents/{doc_id}").status_code == 403


def test_health_endpoint(system: System) -> None:
    app = create_app(system.settings, dispatcher=system.dispatcher, services=system.services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok", body
