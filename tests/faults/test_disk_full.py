"""The object store's disk full (the local store on an 8 MB tmpfs mounted here; needs root).

During a folder ingest: the run stops with a clear error naming the full disk; nothing is
half-written (no partial object, no temp file left, no row pointing at a missing or
different object); once space is freed the same command completes, each file stored once.
During OCR: the pages that cannot be written wait as 'retrying' with the reason (never
failed for it) and the document finishes by itself once space is freed.
"""
from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from dms.db.models import Document
from dms.services.container import build_services
from dms.settings import load_settings
from dms.storage.base import TEMP_PREFIX
from tests.faults.conftest import fill
from tests.worker.conftest import WorkerSystem, multi_page_pdf

pytestmark = pytest.mark.slow

FILES = 12
MB = 1024 * 1024


def _noise_png(path: Path, seed: int) -> bytes:
    """About 360 KB that do not compress: a scan's worth of bytes, a valid PNG."""
    rnd = random.Random(seed)
    img = Image.frombytes("RGB", (400, 300), rnd.randbytes(400 * 300 * 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG")
    return path.read_bytes()


def _dms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dms", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_disk_full_mid_ingest_stops_cleanly_and_the_rerun_completes(
        tmp_path: Path, tiny_disk: Path) -> None:
    station = tmp_path / "station"
    files = {f"33010000{i:02d}_客户{i}/YK{i:04d}_低压居民新装/scan{i}.png": i for i in range(FILES)}
    sha = {rel: hashlib.sha256(_noise_png(station / rel, seed)).hexdigest()
           for rel, seed in files.items()}
    # Leave room for about four of the twelve files.
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"\0" * (free - int(1.5 * MB)))

    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | {
        "DMS_DATA_DIR": str(data), "DMS_OBJECT_STORE_PATH": str(tiny_disk),
        "DMS_SECRET_KEY": "faults"}
    assert _dms(env, "db", "upgrade").returncode == 0

    first = _dms(env, "ingest", str(station))
    assert first.returncode == 74, first.stdout + first.stderr  # EX_IOERR, not a traceback
    assert "No space left on device" in first.stderr
    assert "Traceback" not in first.stderr
    assert "磁盘已满" in first.stderr  # and what to do about it

    settings = load_settings(_env_file=None, data_dir=data, object_store_path=tiny_disk,
                             secret_key="faults-" + "k" * 32)
    services = build_services(settings)

    def check_consistent() -> int:
        """No temp file left; every row's object is there, whole and the right bytes."""
        assert not [p for p in tiny_disk.rglob(f"{TEMP_PREFIX}*")]
        with services.sessions() as s:
            docs = list(s.scalars(select(Document)))
        for doc in docs:
            body = services.store.get_bytes(doc.original_key)
            assert len(body) == doc.size_bytes
            assert hashlib.sha256(body).hexdigest() == doc.sha256
        return len(docs)

    stored_first = check_consistent()
    assert stored_first < FILES  # the disk did fill up

    ballast.unlink()  # the operator frees space and runs the same command again
    second = _dms(env, "ingest", str(station))
    assert second.returncode == 0, second.stdout + second.stderr
    assert check_consistent() == FILES
    with services.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(Document.sha256)))) == FILES
        assert set(s.scalars(select(Document.sha256))) == set(sha.values())
    assert len(list(services.store.iter_keys("originals/"))) == FILES  # each stored once
    services.close()


def test_disk_full_mid_ocr_waits_and_the_document_completes_once_space_is_freed(
        worker_system: Callable[..., WorkerSystem], tiny_disk: Path, tmp_path: Path) -> None:
    system = worker_system(DMS_OCR_ENGINE="tesseract", DMS_OBJECT_STORE_PATH=str(tiny_disk))
    doc_id = system.add_document(multi_page_pdf(tmp_path, 5))
    system.start_worker(concurrency=1)
    system.wait(lambda: any(p.ocr_status == "done" for p in system.pages(doc_id)), 180,
                "the first page to be read")
    ballast = fill(tiny_disk)
    system.wait(lambda: "object store unavailable" in system.log(), 120,
                "a task to meet the full disk")
    waiting = [p for p in system.pages(doc_id) if p.ocr_status == "retrying"]
    assert waiting and all("No space left" in p.ocr_error for p in waiting)
    assert system.document(doc_id).ocr_status == "ocr"  # nothing failed for it
    assert not list(tiny_disk.rglob(f"{TEMP_PREFIX}*"))  # no partial object left behind

    ballast.unlink()  # space is freed: the retries finish the document, nobody re-runs it
    doc = system.wait_finished(doc_id, timeout=300)
    pages = system.pages(doc_id)
    assert doc.ocr_status == "done" and all(p.ocr_status == "done" for p in pages)
    store = system.services.store
    assert doc.searchable_pdf_key and store.size(doc.searchable_pdf_key) > 0
    for p in pages:
        assert p.words_key and store.exists(p.words_key)  # page PDFs: work files, dropped
    assert len(system.audit("ocr_finished", doc_id)) == 1
