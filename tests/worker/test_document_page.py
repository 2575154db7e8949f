"""The document page: OCR status by page, and the reprocess action (archivists, admins)."""
from __future__ import annotations


import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import AuditEvent, Customer, Document, Page
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.users import create_user
from dms.settings import Settings
from dms.web import create_app
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher
from dms.worker.routing import WORKER_QUEUES

PASSWORD = "page-test-password"


@pytest.fixture
def services(settings: Settings) -> Services:
    upgrade(settings.database_url)
    svc = build_services(settings)
    with session_scope(svc.sessions) as s:
        create_user(s, "archivist", PASSWORD, "archivist")
        create_user(s, "manager", PASSWORD, "manager")
        c = Customer(customer_no="3301000042", name="李四")
        doc = Document(sha256="b" * 64, customer=c, source_name="合同.pdf",
                       mime="application/pdf", size_bytes=3, original_key="originals/x.pdf",
                       ocr_status="partial", ocr_error="第2页: tesseract timed out after 1.00 s")
        doc.pages += [
            Page(page_no=1, image_key="p/1.png", text="供用电合同", ocr_status="done",
                 confidence=52.5, needs_review=True, attempts=1),
            Page(page_no=2, image_key="p/2.png", ocr_status="failed", attempts=2,
                 ocr_error="tesseract timed out after 1.00 s"),
        ]
        s.add(doc)
    return svc


def _client(settings: Settings, services: Services, user: str) -> FlaskClient:
    app = create_app(settings, services=services,
                     dispatcher=CeleryDispatcher(make_celery(settings)))
    client = app.test_client()
    assert client.post("/login", data={"username": user, "password": PASSWORD}).status_code == 302
    return client


def _queued_tasks(settings: Settings) -> list[tuple[str, str, list[int]]]:
    """What is waiting in the real (embedded) broker: (queue, task, args)."""
    app = make_celery(settings)
    out = []
    with app.connection_for_read() as conn:
        for name in WORKER_QUEUES:
            queue = conn.SimpleQueue(name, no_ack=True)
            while True:
                try:
                    msg = queue.get(timeout=0.2)
                except queue.Empty:
                    break
                out.append((name, msg.headers["task"], msg.payload[0]))
            queue.close()
    return out


def test_the_page_list_shows_status_confidence_review_and_errors(
        settings: Settings, services: Services) -> None:
    client = _client(settings, services, "manager")
    html = client.get("/documents/1").get_data(as_text=True)
    assert 'id="page-status"' in html and "逐页识别状态" in html
    assert 'data-page="1" data-status="done"' in html and "52.5" in html and "需复核" in html
    assert 'data-page="2" data-status="failed"' in html
    assert "tesseract timed out after 1.00 s" in html
    assert 'id="reprocess"' not in html  # a manager may look, not reprocess
    assert client.post("/documents/1/reprocess").status_code == 403
    en = client.get("/documents/1?lang=en").get_data(as_text=True)
    assert "OCR status by page" in en


def test_an_archivist_reprocesses_a_document(settings: Settings, services: Services) -> None:
    client = _client(settings, services, "archivist")
    assert 'id="reprocess"' in client.get("/documents/1").get_data(as_text=True)
    r = client.post("/documents/1/reprocess")
    assert r.status_code == 302 and r.headers["Location"].endswith("/documents/1")
    with services.sessions() as s:
        doc = s.get(Document, 1)
        assert doc is not None and doc.ocr_status == "queued" and doc.pages == []
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "ocr_reprocess"))
        assert event is not None and event.actor == "archivist"
    assert _queued_tasks(settings) == [("documents", "dms.ocr_document", [1])]
    assert client.post("/documents/999/reprocess").status_code == 404


def test_reprocess_needs_a_login(settings: Settings, services: Services) -> None:
    app = create_app(settings, services=services,
                     dispatcher=CeleryDispatcher(make_celery(settings)))
    r = app.test_client().post("/documents/1/reprocess")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert _queued_tasks(settings) == []
