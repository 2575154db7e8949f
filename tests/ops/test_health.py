"""/healthz reports every component; with the index directory removed while serving,
search answers 503 naming `dms reindex` and /healthz says the index is down; writes still
commit, and `dms reindex` repairs it with the server running. Real `dms serve` and
`dms worker` processes on the embedded default."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dms.db.models import Document
from dms.db.models_ops import WorkerHeartbeat
from dms.db.session import session_scope
from dms.services.health import health_report
from dms.worker.health import probe_broker
from dms.services.users import create_user
from dms.testing.live_server import live_server, settings_env, stop_process_group
from dms.testing.postgres import free_port
from tests.ingest.conftest import make_services
from tests.ops.archive import populate

PASSWORD = "health-pass-123"
SEARCH = "/api/v1/search?q=" + urllib.parse.quote("合同")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with self.opener.open(self.base + path, timeout=30) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def login(self) -> None:
        # As a browser: the login form's CSRF token goes back with the credentials.
        with self.opener.open(self.base + "/login", timeout=30) as resp:
            form = resp.read().decode("utf-8")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no csrf_token on the login form"
        data = urllib.parse.urlencode({"username": "admin", "password": PASSWORD,
                                       "csrf_token": token.group(1)}).encode()
        self.opener.open(self.base + "/login", data=data, timeout=30).close()


def _dms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | env
    return subprocess.run([sys.executable, "-m", "dms", *args], env=full, text=True,
                          capture_output=True, timeout=300)


def test_index_removed_while_serving(tmp_path: Path) -> None:
    services = make_services(tmp_path / "var")
    arch = populate(services, customers=2)
    with session_scope(services.sessions) as s:
        create_user(s, "admin", PASSWORD, "admin")
    env = settings_env(services.settings)
    with live_server(env, tmp_path / "serve.log") as url:
        web = Client(url)
        web.login()
        status, body = web.get(SEARCH)
        assert status == 200 and body["total"] > 0
        status, health = web.get("/healthz")
        assert status == 200 and health["components"]["search_index"]["status"] == "ok"
        assert health["components"]["database"]["status"] == "ok"

        shutil.rmtree(services.settings.search_index_path)  # type: ignore[arg-type]
        status, body = web.get(SEARCH)
        assert status == 503, body
        assert "dms reindex" in body["error"]["hint"]
        assert "搜索索引不可用" in body["error"]["message"]
        status, health = web.get("/healthz")
        assert status == 503 and health["status"] == "down"
        index = health["components"]["search_index"]
        assert index["status"] == "down" and "dms reindex" in index["fix"]
        assert health["components"]["database"]["status"] == "ok"

        # A write still commits while the index is gone.
        gone = arch.documents[0]
        deleted = _dms(env, "documents", "delete", str(gone), "--yes")
        assert deleted.returncode == 0, deleted.stderr
        with services.sessions() as s:
            assert s.get(Document, gone) is None
        # `dms reindex` repairs it with the server running.
        assert _dms(env, "reindex").returncode == 0
        status, body = web.get(SEARCH)
        assert status == 200 and body["total"] > 0
        assert gone not in {h["document_id"] for h in body["hits"]}
        status, health = web.get("/healthz")
        assert status == 200 and health["components"]["search_index"]["status"] == "ok"
        assert health["components"]["search_index"]["details"]["pages"] == arch.pages - 2
    services.close()


def test_workers_backlog_and_broker(tmp_path: Path) -> None:
    services = make_services(tmp_path / "var")
    populate(services, customers=1)
    with session_scope(services.sessions) as s:  # OCR work waiting
        s.scalars(select(Document)).first().ocr_status = "queued"  # type: ignore[union-attr]
    overall, c = health_report(services, probe_broker)
    assert c["workers"].status == "degraded" and "dms worker" in c["workers"].fix
    assert c["ocr_backlog"].status == "degraded"
    assert c["broker"].status == "ok" and overall == "degraded"

    env = settings_env(services.settings, DMS_OCR_ENGINE="tesseract", DMS_LOG_LEVEL="INFO")
    full = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | env
    log = open(tmp_path / "worker.log", "ab")
    worker = subprocess.Popen([sys.executable, "-m", "dms", "worker", "-c", "1"], env=full,
                              stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while health_report(services, probe_broker)[1]["workers"].status != "ok":
            assert worker.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.5)
        details = health_report(services, probe_broker)[1]["workers"].details or {}
        assert details["alive"] == 1 and details["processes"] == 1
    finally:
        stop_process_group(worker)
        log.close()
    with services.sessions() as s:  # a clean shutdown removes its heartbeat at once
        assert s.scalars(select(WorkerHeartbeat)).all() == []
    services.close()

    dead_broker = make_services(tmp_path / "var2", broker_url=f"redis://127.0.0.1:{free_port()}/0")
    overall, c = health_report(dead_broker, probe_broker)
    assert overall == "down" and c["broker"].status == "down" and c["broker"].reason
    dead_broker.close()


def test_app_opens_the_embedded_index_at_boot(app, web_services, login_as) -> None:  # type: ignore[no-untyped-def]
    """Each gunicorn worker builds its own app: one that opened the index only on its first
    search, after the directory was removed, would create an empty index and answer 200
    with no hits. Opened at boot, the removal is seen and named."""
    assert "index" in web_services.__dict__
    client = login_as("admin")
    shutil.rmtree(web_services.settings.search_index_path)  # type: ignore[arg-type]
    resp = client.get(SEARCH)
    assert resp.status_code == 503, resp.get_json()
    assert "dms reindex" in resp.get_json()["error"]["hint"]


def test_dms_up_rebuilds_an_index_of_an_older_schema(tmp_path: Path) -> None:
    """An index written by an older dms (another schema) cannot be opened; `dms up` rebuilds
    it from the database before serving instead of starting with every search at 503."""
    import tantivy

    from dms.launcher import rebuild_unreadable_index

    services = make_services(tmp_path / "var")
    arch = populate(services, customers=1)
    services.close()
    index_dir = services.settings.search_index_path
    shutil.rmtree(index_dir)  # type: ignore[arg-type]
    old = tantivy.SchemaBuilder()
    old.add_text_field("body", stored=True)
    index_dir.mkdir()  # type: ignore[union-attr]
    tantivy.Index(old.build(), path=str(index_dir), reuse=False)

    again = make_services(tmp_path / "var")
    assert rebuild_unreadable_index(again) == arch.pages
    assert again.index.count() == arch.pages
    assert rebuild_unreadable_index(make_services(tmp_path / "var")) is None  # opens now
    again.close()
