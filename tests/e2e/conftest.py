"""One real embedded system for the end-to-end and browser tests.

Real Celery worker processes on the SQLite broker, real tesseract, the local
object store and the tantivy index: the same as ``dms up`` runs.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import Document
from dms.db.session import session_scope
from dms.sample_data import render_document, save_document
from dms.services.container import Services, build_services
from dms.services.users import create_user
from dms.settings import Settings, load_settings
from dms.testing.live_server import stop_process_group
from ingest.batch import ingest_folder
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher

PASSWORD = "e2e-password-1"


@dataclass
class System:
    settings: Settings
    services: Services
    env: dict[str, str]
    root: Path
    dispatcher: CeleryDispatcher

    def start_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "dms", "worker", "-c", str(concurrency)], env=self.env,
            stdout=subprocess.DEVNULL, stderr=open(self.root / "worker.log", "ab"),
            start_new_session=True)

    def wait_ocr(self, worker: subprocess.Popen[bytes], timeout: float = 600) -> list[Document]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and worker.poll() is None:
            with self.services.sessions() as s:
                docs = list(s.scalars(select(Document).order_by(Document.id)))
                if docs and all(d.ocr_status in ("done", "partial", "failed") for d in docs):
                    return docs
            time.sleep(1)
        log = (self.root / "worker.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"OCR did not finish (worker exit code {worker.poll()}); "
                             f"worker log tail:\n{log}")


def scanner_folder(root: Path) -> Path:
    """Two customers as a scanner station lays them out: a 2-page contract PDF and a
    single-page application form, one of them rotated, one in Traditional Chinese."""
    folder = root / "scans"
    contract = render_document("GYDHT", seed=11)
    d1 = folder / f"{contract.fields['customer_no']}_客户甲" / "YK2026000001_低压居民新装"
    d1.mkdir(parents=True)
    contract.pages = contract.pages[:2]
    contract.truth = contract.truth[:2]
    save_document(contract, d1 / "01_供用电合同.pdf", "pdf")
    form = render_document("YDSQS", seed=12, script="traditional", rotation=90)
    d2 = folder / f"{form.fields['customer_no']}_客户乙" / "YK2026000002_低压非居民新装"
    d2.mkdir(parents=True)
    save_document(form, d2 / "01_用电申请书.png", "png")
    return folder


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    root = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "DMS_DATA_DIR": str(root / "var"), "DMS_SECRET_KEY": "e2e",
           "DMS_LOG_LEVEL": "INFO"}
    settings = load_settings(data_dir=root / "var", secret_key="e2e", _env_file=None)
    upgrade(settings.database_url)
    services = build_services(settings)
    with session_scope(services.sessions) as s:
        create_user(s, "admin", PASSWORD, "admin", display_name="管理员")
        create_user(s, "handler", PASSWORD, "handler", team_code="YYB")
    dispatcher = CeleryDispatcher(make_celery(settings))
    sys_ = System(settings, services, env, root, dispatcher)
    worker = sys_.start_worker()
    try:
        ingest_folder(services, scanner_folder(root), dispatcher=dispatcher)
        sys_.wait_ocr(worker)
        yield sys_
    finally:
        stop_process_group(worker)
        services.close()
