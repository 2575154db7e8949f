"""Progress of long OCR work: the backlog, the rate, the estimated finish per batch, on
the command line (``dms ocr --status``) and on the ingest batches page."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from dms.cli import cli
from dms.db.migrate import upgrade
from dms.db.models import Customer, Document, IngestBatch, Page
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.ocr_progress import ocr_status
from dms.services.users import create_user
from dms.settings import Settings
from dms.web import create_app
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher

PASSWORD = "progress-test-password"
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _doc(n: int, batch: int | None, status: str, pages: list[str],
         finished: datetime | None = None) -> Document:
    doc = Document(sha256=f"{n:064x}", customer=Customer(customer_no=f"33010{n:05d}"),
                   source_name=f"{n}.pdf", mime="application/pdf", size_bytes=1,
                   original_key=f"o/{n}", ocr_status=status, page_count=len(pages),
                   batch_id=batch)
    doc.pages += [Page(page_no=i + 1, image_key=f"p/{n}/{i}", ocr_status=st,
                       ocr_finished_at=finished if st == "done" else None)
                  for i, st in enumerate(pages)]
    return doc


@pytest.fixture
def services(settings: Settings) -> Services:
    """Batch 1 (older): 4 of 6 pages read; batch 2: 2 documents, one not split yet (the
    mean page count, 3, stands in for it), the other 1 of 3 read; a finished batch 3.
    Ten pages were read in the last 10 minutes: 1 page a minute."""
    upgrade(settings.database_url)
    svc = build_services(settings)
    recent = NOW - timedelta(minutes=5)
    with session_scope(svc.sessions) as s:
        create_user(s, "manager", PASSWORD, "manager")
        s.add_all([IngestBatch(id=i, source=f"/scans/{i}", started_at=NOW - timedelta(hours=4 - i))
                   for i in (1, 2, 3)])
        s.flush()
        b1, b2, b3 = 1, 2, 3
        s.add_all([
            _doc(1, b1, "ocr", ["done", "done", "done"], recent),
            _doc(2, b1, "ocr", ["done", "pending", "running"], recent),
            _doc(3, b2, "queued", []),
            _doc(4, b2, "ocr", ["done", "pending", "pending"], recent),
            _doc(5, b3, "done", ["done"] * 5, recent),
            _doc(6, None, "done", ["done"] * 3, NOW - timedelta(hours=1)),  # outside the window
        ])
    return svc


def test_the_backlog_the_rate_and_the_finish_of_each_batch(services: Services) -> None:
    with services.sessions() as s:
        st = ocr_status(s, window=timedelta(minutes=10), now=NOW)
    assert st.pages_read_in_window == 10 and st.pages_per_minute == pytest.approx(1.0)
    assert [b.batch_id for b in st.batches] == [1, 2]  # the finished batch 3 is not listed
    first, second = st.batches
    assert (first.documents, first.pages, first.pages_read, first.pages_left) == (2, 6, 4, 2)
    # batch 2: 2 pages of document 4 + the unsplit document 3 at the mean of 3.2 pages
    mean = (3 + 3 + 3 + 5 + 3) / 5
    assert second.unsplit_documents == 1 and second.pages_left == pytest.approx(2 + mean)
    assert first.percent == pytest.approx(100 * 4 / 6)
    # oldest batch first: batch 2 finishes after batch 1's pages and its own, at 1 page/min
    assert first.finish_at == NOW + timedelta(minutes=2)
    assert second.finish_at == NOW + timedelta(minutes=2 + 2 + mean)
    assert st.finish_at == second.finish_at


def test_no_rate_no_finish(services: Services) -> None:
    with services.sessions() as s:
        st = ocr_status(s, window=timedelta(minutes=1), now=NOW + timedelta(days=1))
    assert st.pages_per_minute == 0 and st.finish_at is None
    assert st.backlog_documents == 4


def test_dms_ocr_status(services: Services, settings: Settings,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DMS_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    out = runner.invoke(cli, ["ocr", "--status", "--json", "--minutes", "60"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["backlog_documents"] == 4 and [b["batch_id"] for b in data["batches"]] == [1, 2]
    text = runner.invoke(cli, ["ocr", "--status"])
    assert text.exit_code == 0 and "识别积压：4 份文档" in text.output and "预计完成" in text.output
    bad = runner.invoke(cli, ["ocr", "--status", "--minutes", "0"])
    assert bad.exit_code != 0 and "--minutes" in str(bad.exception or bad.output)


def test_the_batches_page_shows_ocr_progress(services: Services, settings: Settings) -> None:
    app = create_app(settings, services=services,
                     dispatcher=CeleryDispatcher(make_celery(settings)))
    client: FlaskClient = app.test_client()
    assert client.post("/login", data={"username": "manager", "password": PASSWORD}
                       ).status_code == 302
    html = client.get("/ingest/batches").get_data(as_text=True)
    assert "入库批次" in html and "识别进度" in html
    assert 'data-batch="1" data-percent="67"' in html
    assert 'data-batch="3" data-percent="100"' in html
    assert "2/2" not in html.split('data-batch="1"')[1].split("</tr>")[0]  # none finished
    assert "Ingest batches" in client.get("/ingest/batches?lang=en").get_data(as_text=True)
    assert client.get("/ingest/batches?minutes=abc").status_code == 200  # bad: the default
