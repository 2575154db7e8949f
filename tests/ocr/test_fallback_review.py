"""A page the OCR flagged, with its reason: stored, shown in Chinese (English on request)
on the document page and in the review queue, and its document's type counted as low
confidence in the gap report until a person confirms it (issue 20)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from dms.db.models import Document, Page
from dms.db.session import session_scope
from dms.services.classification import confirm_type
from dms.services.container import Services
from dms.services.gap_report import GapFilter, gap_rows
from dms.services.users import create_user
from dms.settings import load_settings
from dms.web import create_app
from dms.web.page_review import reason_labels
from tests.classify.conftest import Env, make_env
from tests.classify.test_web_cli import NoQueue
from tests.reports.conftest import business, doc, svc, team  # noqa: F401 (svc: fixture)
from tests.worker.conftest import WorkerSystem, save_pdf, worker_system  # noqa: F401

PASSWORD = "review-pw-123"
BELOW = 0.6
REASON = "short_for_ink,low_confidence,fallback_used:upsample:ppocr5"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    # not tests/ocr's settings (an OCR engine's): a web app's, with a session key
    yield from make_env(load_settings(data_dir=tmp_path / "var", secret_key="test" * 32,
                                      _env_file=None))


def _client(env: Env) -> FlaskClient:
    with session_scope(env.services.sessions) as s:
        create_user(s, "archivist", PASSWORD, "archivist", display_name="王档案")
    app = create_app(env.settings, dispatcher=NoQueue(), services=env.services)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    r = client.post("/login", data={"username": "archivist", "password": PASSWORD})
    assert r.status_code == 302
    return client


def _flag(env: Env, doc_id: int, page_no: int, reason: str) -> None:
    with session_scope(env.services.sessions) as s:
        d = s.get(Document, doc_id)
        assert d is not None
        d.doc_type, d.type_confidence, d.type_confirmed = "GYDHT", 0.95, False
        page = next(p for p in d.pages if p.page_no == page_no)
        page.needs_review, page.review_reason = True, reason


def test_reason_labels() -> None:
    assert reason_labels("") == []
    assert reason_labels("empty_with_ink") == ["页面有字迹但未识别出文字"]
    assert reason_labels("fallback_used:rebinarise:tesseract") == [
        "已用备用方式重新识别（重新二值化，tesseract）"]
    assert reason_labels("a_newer_code") == ["a_newer_code"]  # shown, not hidden


def test_document_page_and_review_queue_show_the_reason(env: Env) -> None:
    flagged = env.add_document(["供用电合同 合同编号 GDHT-2024-000123", "第二页"], name="c.pdf")
    clean = env.add_document(["供用电合同 合同编号 GDHT-2024-000999"], name="d.pdf")
    _flag(env, flagged, 2, REASON)
    _flag(env, clean, 1, "")
    with session_scope(env.services.sessions) as s:  # a sure, clean document
        p = s.get(Document, clean)
        assert p is not None
        p.pages[0].needs_review = False
    client = _client(env)

    html = client.get(f"/documents/{flagged}?page=2").get_data(as_text=True)
    assert 'id="page-review-reason"' in html
    assert "识别文字明显少于页面字迹" in html and "识别置信度低" in html
    assert "已用备用方式重新识别（提高分辨率，ppocr5）" in html
    page1 = client.get(f"/documents/{flagged}?page=1").get_data(as_text=True)
    assert 'id="page-review-reason"' not in page1  # page 1 was read well
    assert "识别文字明显少于页面字迹" in page1  # ... but the page table lists page 2's

    en = client.get(f"/documents/{flagged}?page=2&lang=en").get_data(as_text=True)
    assert "Far less text read than the page&#39;s ink suggests" in en
    assert "Read again another way（higher resolution，ppocr5）" in en

    queue = client.get("/review").get_data(as_text=True)
    assert f'id="review-{flagged}"' in queue  # confident type, but read from a poor page
    assert f'id="review-{clean}"' not in queue
    assert 'data-page="2"' in queue and "识别文字明显少于页面字迹" in queue

    r = client.post("/review/confirm", data={"doc_id": [str(flagged)], "bulk_type": "GYDHT"})
    assert r.status_code == 302
    assert f'id="review-{flagged}"' not in client.get("/review").get_data(as_text=True)


def test_gap_report_counts_a_poorly_read_document_as_low_confidence(
        svc: Services) -> None:  # noqa: F811 (the fixture imported above)
    with session_scope(svc.sessions) as s:
        b = business(s, team(s, "YYB"), "SUSPEND")  # BGSQ, SFZM, KCD
        sure = doc(s, b, "BGSQ", confirmed=False, confidence=0.9)
        read_badly = doc(s, b, "KCD", confirmed=False, confidence=0.9)
        for d, flagged in ((sure, False), (read_badly, True)):
            s.add(Page(document_id=d.id, page_no=1, image_key=f"p{d.id}", text="勘查",
                       needs_review=flagged, review_reason="short_for_ink" if flagged else ""))
        s.flush()
        assert _status(s, svc) == {"BGSQ": "classified", "KCD": "low_confidence",
                                   "SFZM": "missing"}
        confirm_type(s, svc, read_badly.id, "KCD", actor="archivist")
        s.flush()
        assert _status(s, svc)["KCD"] == "confirmed"


def _status(s: Session, services: Services) -> dict[str, str]:
    return {r["doc_type"]: r["status"]
            for r in gap_rows(s, services.checklist, BELOW, GapFilter())}


@pytest.mark.slow
def test_the_worker_stores_the_reason(worker_system: Callable[..., WorkerSystem],  # noqa: F811
                                      tmp_path: Path) -> None:
    """A real worker reads a scan whose one page is blank: flagged, the reasons stored."""
    system = worker_system()
    system.start_worker(concurrency=1)
    blank = save_pdf([Image.new("L", (1240, 1754), 255)], tmp_path / "blank.pdf")
    doc_id = system.add_document(blank)
    system.wait_finished(doc_id)
    (page,) = system.pages(doc_id)
    assert page.needs_review
    assert page.review_reason.split(",") == ["low_confidence", "almost_no_text"]
