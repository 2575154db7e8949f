"""The S3 server (SeaweedFS, real, on loopback) stopped mid-OCR and mid-ingest.

Mid-OCR: the pages that cannot reach the store wait as 'retrying' with the store's error
(never failed for it), the tasks retry with backoff, and once the server is back the
document finishes by itself: every page read, the searchable PDF stored, finished once.
Mid-ingest: the run stops with exit 74 and the reason, no row points at a missing object,
and the same command after the restart completes with every file stored once.
"""
from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from dms.db.models import Document, Page
from dms.testing.seaweed import SeaweedS3
from tests.worker.conftest import WorkerSystem, multi_page_pdf

pytestmark = [pytest.mark.slow, pytest.mark.s3]


@pytest.fixture
def seaweed(tmp_path: Path) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path / "seaweed") as server:
        server.requested_port = server.port  # a restart comes back at the same endpoint
        yield server


def s3_env(server: SeaweedS3) -> dict[str, str]:
    return {"DMS_OBJECT_STORE": "s3", "DMS_S3_ENDPOINT_URL": server.endpoint_url,
            "DMS_S3_ACCESS_KEY": server.access_key, "DMS_S3_SECRET_KEY": server.secret_key,
            "DMS_S3_BUCKET": f"f-{uuid.uuid4().hex[:12]}"}


def _restart(server: SeaweedS3, down_for: float) -> None:
    server.stop()
    time.sleep(down_for)
    server.start()


def test_s3_stopped_mid_ocr_retries_and_the_document_completes(
        worker_system: Callable[..., WorkerSystem], seaweed: SeaweedS3, tmp_path: Path) -> None:
    system = worker_system(DMS_OCR_ENGINE="tesseract", **s3_env(seaweed))
    pdf = multi_page_pdf(tmp_path, 6)
    doc_id = system.add_document(pdf)
    system.start_worker(concurrency=1)

    def some_pages_done() -> bool:
        return any(p.ocr_status == "done" for p in system.pages(doc_id))

    system.wait(some_pages_done, 180, "the first page to be read")
    seaweed.stop()
    system.wait(lambda: "object store unavailable" in system.log(), 120,
                "a task to meet the stopped store")
    waiting = [p for p in system.pages(doc_id) if p.ocr_status == "retrying"]
    assert waiting and all("failed for" in p.ocr_error for p in waiting)  # the store's reason
    assert system.document(doc_id).ocr_status == "ocr"  # nothing failed for the outage
    seaweed.start()

    doc = system.wait_finished(doc_id, timeout=300)  # no operator action: retries finish it
    pages = system.pages(doc_id)
    assert doc.ocr_status == "done" and len(pages) == 6
    assert all(p.ocr_status == "done" and p.text.strip() for p in pages)
    store = system.services.store
    assert doc.searchable_pdf_key and store.size(doc.searchable_pdf_key) > 0
    assert store.get_bytes(doc.original_key) == pdf.read_bytes()
    for p in pages:  # the page images and page PDFs were work files, dropped once assembled
        assert p.words_key and store.exists(p.words_key)
    assert len(system.audit("ocr_finished", doc_id)) == 1


def _noise_png(path: Path, seed: int) -> bytes:
    rnd = random.Random(seed)
    img = Image.frombytes("RGB", (600, 500), rnd.randbytes(600 * 500 * 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG")
    return path.read_bytes()


def test_s3_stopped_mid_ingest_fails_cleanly_and_the_rerun_completes(
        worker_system: Callable[..., WorkerSystem], seaweed: SeaweedS3, tmp_path: Path) -> None:
    system = worker_system(**s3_env(seaweed))  # no worker: OCR stays queued in the broker
    system.services.store.ensure_bucket()  # type: ignore[attr-defined]
    station = tmp_path / "station"
    shas = {hashlib.sha256(_noise_png(
        station / f"33020000{i:02d}_客户/YK{i:04d}_低压居民新装/scan{i}.png", i)).hexdigest()
        for i in range(60)}

    run = subprocess.Popen([sys.executable, "-m", "dms", "ingest", str(station), "--workers", "1"],
                           env=system.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)

    def stored() -> int:
        with system.services.sessions() as s:
            return s.scalar(select(func.count()).select_from(Document)) or 0

    system.wait(lambda: stored() >= 3, 120, "the ingest to be under way")
    seaweed.stop()
    out, err = run.communicate(timeout=300)
    assert run.returncode == 74, out + err  # EX_IOERR with the store's reason, no traceback
    assert "failed for" in err and "Traceback" not in err
    first = stored()
    assert 3 <= first < len(shas)

    seaweed.start()
    with system.services.sessions() as s:  # no row points at a missing or different object
        for doc in s.scalars(select(Document)):
            assert hashlib.sha256(system.services.store.get_bytes(doc.original_key)
                                  ).hexdigest() == doc.sha256
    again = system.dms("ingest", str(station))
    assert "60" in again.stdout
    with system.services.sessions() as s:
        assert set(s.scalars(select(Document.sha256))) == shas
        assert s.scalar(select(func.count()).select_from(Document)) == len(shas)
        assert s.scalar(select(func.count()).select_from(Page)) == 0
    assert len(list(system.services.store.iter_keys("originals/"))) == len(shas)
