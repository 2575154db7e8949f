"""Real worker processes (``python -m dms worker``) on a throwaway data dir, real tesseract.

Documents are added the way ingest adds them (original under its content key in the
object store, a ``documents`` row, OCR queued after commit) but without ingest's checks,
so a corrupt file can reach the worker too.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import AuditEvent, Business, Customer, Document, Page
from dms.db.session import after_commit, session_scope
from dms.services.container import Services, build_services
from dms.settings import Settings, load_settings
from dms.storage import content_key
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher
from tests.ocr.conftest import render, save

SHORT_LINES = ["供用电合同 第{n}页", "户名 张三 户号 330100{n:04d}"]
FINISHED = ("done", "partial", "failed")


def small_page(n: int) -> Image.Image:
    """Two short lines at 300 dpi: about a second of chi_sim OCR."""
    return render([line.format(n=n) for line in SHORT_LINES], width=1000)


def save_pdf(pages: list[Image.Image], path: Path) -> Path:
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=300)
    return path


@dataclass
class WorkerSystem:
    root: Path
    settings: Settings
    services: Services
    env: dict[str, str]
    app: Any
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _customers: int = 0

    @property
    def dispatcher(self) -> CeleryDispatcher:
        return CeleryDispatcher(self.app)

    @property
    def log_path(self) -> Path:
        return self.root / "worker.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start_worker(self, concurrency: int = 1, **env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dms", "worker", "-c", str(concurrency)],
            env={**self.env, **env}, stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "ab"), start_new_session=True)
        self.workers.append(proc)
        return proc

    def wait_ready(self, count: int, timeout: float = 120) -> None:
        """Until ``count`` workers have said 'ready' (they consume from then on)."""
        self.wait(lambda: self.log().count(" ready.") >= count, timeout, "workers ready")

    def stop_workers(self) -> None:
        for proc in self.workers:  # all at once: a warm shutdown takes a few seconds each
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers:
            stop(proc)
        self.workers.clear()

    def add_document(self, path: Path, *, business_no: str | None = None) -> int:
        """Store ``path`` as a new document of a new customer and queue its OCR."""
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        key = content_key("originals", sha, path.suffix.lower())
        self.services.store.put_bytes(key, data)
        self._customers += 1
        with session_scope(self.services.sessions) as s:
            c = Customer(customer_no=f"33{os.getpid() % 1000:03d}{self._customers:05d}",
                         name="测试客户")
            b = Business(business_no=business_no or f"YK{sha[:10]}", customer=c,
                         business_type="LV_RES_NEW")
            doc = Document(sha256=sha, customer=c, business=b, source_name=path.name,
                           mime="application/octet-stream", size_bytes=len(data),
                           original_key=key)
            s.add(doc)
            s.flush()
            doc_id = doc.id
            after_commit(s, lambda: self.dispatcher.ocr_document(doc_id))
        return doc_id

    def document(self, doc_id: int) -> Document:
        with self.services.sessions() as s:
            doc = s.get(Document, doc_id)
            assert doc is not None
            _ = doc.pages
            return doc

    def pages(self, doc_id: int) -> list[Page]:
        with self.services.sessions() as s:
            return list(s.scalars(select(Page).where(Page.document_id == doc_id)
                                  .order_by(Page.page_no)))

    def audit(self, action: str, entity_id: object) -> list[AuditEvent]:
        with self.services.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.entity_id == str(entity_id))))

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            for proc in self.workers:
                if proc.poll() is not None and proc.returncode not in (-signal.SIGKILL,):
                    raise AssertionError(f"worker exited with {proc.returncode}:\n"
                                         f"{self.log()[-3000:]}")
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}; worker log tail:\n"
                             f"{self.log()[-3000:]}")

    def wait_finished(self, doc_id: int, timeout: float = 240) -> Document:
        self.wait(lambda: self.document(doc_id).ocr_status in FINISHED, timeout,
                  f"document {doc_id} to finish OCR")
        return self.document(doc_id)

    def succeeded(self, task_id: str) -> bool:
        return re.search(rf"\[{re.escape(task_id)}\] succeeded", self.log()) is not None

    def dms(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dms", *args], env={**self.env, **env},
                              capture_output=True, text=True, timeout=120, check=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown: SIGTERM to the main process only, which stops its pool; a SIGTERM
    to the whole group would kill the pool children mid-task."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def make_system(root: Path, **env: str) -> WorkerSystem:
    """A data dir, its migrated SQLite DB, and the env a worker subprocess needs.
    ``env`` holds extra ``DMS_*`` settings shared by this process and the workers."""
    base = {"DMS_DATA_DIR": str(root / "var"), "DMS_SECRET_KEY": "worker-tests",
            "DMS_OCR_LANGUAGES": "chi_sim", "DMS_LOG_LEVEL": "INFO", **env}
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | base
    overrides = {k[len("DMS_"):].lower(): v for k, v in base.items()}
    settings = load_settings(_env_file=None, **overrides)
    upgrade(settings.database_url)
    services = build_services(settings)
    return WorkerSystem(root, settings, services, full_env, make_celery(settings))


@pytest.fixture
def worker_system(tmp_path: Path) -> Iterator[Callable[..., WorkerSystem]]:
    made: list[WorkerSystem] = []

    def factory(**env: str) -> WorkerSystem:
        system = make_system(tmp_path / f"sys{len(made)}", **env)
        made.append(system)
        return system

    yield factory
    for system in made:
        system.stop_workers()
        system.services.close()


@pytest.fixture
def one_page_png(tmp_path: Path) -> Path:
    return save(small_page(1), tmp_path / "page.png")


def multi_page_pdf(tmp_path: Path, n: int, name: str = "doc.pdf") -> Path:
    return save_pdf([small_page(i) for i in range(1, n + 1)], tmp_path / name)
