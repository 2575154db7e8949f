"""PostgreSQL restarted (immediate: a crash) while stations upload over the HTTP API.

Requests caught by the outage answer a clear 503 naming the database, never a 500; the
app's pool reconnects by itself afterwards; every upload the API acknowledged is in the
database with its object, no row points at a missing object, and uploading the rejected
files again completes the batch with every file stored once.
"""
from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import Document
from dms.services.container import build_services
from dms.settings import load_settings
from dms.testing.postgres import ThrowawayPostgres, _pg_bin, free_port
from dms.web.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AUTH = {"Authorization": "Bearer tok-faults"}


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own: the session's shared one must not be restarted."""
    with ThrowawayPostgres() as pg:
        yield pg


def crash_and_restart(pg: ThrowawayPostgres, down_for: float) -> None:
    """Stop immediately (no checkpoint: a crash, recovery replays the WAL), stay down,
    start with the same options (pg_ctl keeps them in postmaster.opts). The server log
    goes to a file: a pipe held by the server would never reach end of file."""
    ctl = [_pg_bin("pg_ctl"), "-D", str(pg.data), "-l", str(pg.dir / "log")]
    pg._run(*ctl, "-m", "immediate", "stop")
    time.sleep(down_for)
    pg._run(*ctl, "-w", "restart")


def _png(seed: int) -> bytes:
    rnd = random.Random(seed)
    buf = io.BytesIO()
    Image.frombytes("RGB", (64, 48), rnd.randbytes(64 * 48 * 3)).save(buf, "PNG")
    return buf.getvalue()


def test_postgres_restart_under_upload_load_loses_nothing(
        own_postgres: ThrowawayPostgres, tmp_path: Path) -> None:
    pg = own_postgres
    settings = load_settings(_env_file=None, data_dir=tmp_path / "var", database_url=pg.url,
                             secret_key="faults-" + "k" * 32, station_token="tok-faults")
    upgrade(settings.database_url)
    services = build_services(settings)
    app = create_app(settings, services=services)
    client = app.test_client()
    batch_id = client.post("/api/v1/ingest/batches", headers=AUTH, json={}).get_json()["batch_id"]

    files: dict[str, bytes] = {}
    answers: list[tuple[str, int, dict[str, Any]]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def upload(rel: str, data: bytes) -> tuple[int, dict[str, Any]]:
        resp = app.test_client().post(
            f"/api/v1/ingest/batches/{batch_id}/files", headers=AUTH,
            data={"path": rel, "file": (io.BytesIO(data), rel.rsplit("/", 1)[1])},
            content_type="multipart/form-data")
        return resp.status_code, resp.get_json(silent=True) or {"raw": resp.data[:300]}

    def station(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            rel = f"33040{n}{i:05d}_客户/YK{n}{i:05d}_低压居民新装/scan.png"
            data = _png(n * 100_000 + i)
            with lock:
                files[rel] = data
            status, body = upload(rel, data)
            with lock:
                answers.append((rel, status, body))

    threads = [threading.Thread(target=station, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        before = len(answers)
        crash_and_restart(pg, down_for=2.0)
        restarted = len(answers)
        time.sleep(4)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert before > 0 and len(answers) > restarted  # load before, during and after

    bad = [(rel, s, b) for rel, s, b in answers if s not in (200, 503)]
    assert not bad, bad[:3]  # an outage is a 503 with a reason, never a 500
    refused = [(rel, b) for rel, s, b in answers if s == 503]
    for _, body in refused:
        assert body["error"]["code"] == "database_unavailable", body
    accepted = {rel: b for rel, s, b in answers if s == 200}
    after = [rel for rel, s, _ in answers[restarted:] if s == 200]
    assert after, "the pool did not reconnect after the restart"

    with services.sessions() as s:
        docs = {d.sha256: d for d in s.scalars(select(Document))}
    for rel, body in accepted.items():  # nothing acknowledged was lost
        (result,) = body["results"]
        assert result["outcome"] == "stored", result
        assert hashlib.sha256(files[rel]).hexdigest() in docs
    for doc in docs.values():  # nothing half-written: every row has its whole object
        assert hashlib.sha256(services.store.get_bytes(doc.original_key)).hexdigest() == doc.sha256

    for rel, _ in refused:  # the station sends the refused files again
        status, body = upload(rel, files[rel])
        assert status == 200 and body["results"][0]["outcome"] in ("stored", "duplicate")
    with services.sessions() as s:
        shas = list(s.scalars(select(Document.sha256)))
    assert sorted(shas) == sorted({hashlib.sha256(d).hexdigest() for d in files.values()})
    print(f"uploads: {len(answers)}, acknowledged {len(accepted)}, refused 503 {len(refused)}")
    services.close()


def test_a_cli_command_with_the_database_down_says_so(tmp_path: Path) -> None:
    """Nothing listens on the port: exit 69 (EX_UNAVAILABLE) and the reason, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | {
        "DMS_DATA_DIR": str(tmp_path / "var"), "DMS_SECRET_KEY": "faults",
        "DMS_DATABASE_URL": f"postgresql+psycopg2://dms@127.0.0.1:{free_port()}/dms"}
    out = subprocess.run([sys.executable, "-m", "dms", "documents", "delete", "1", "--yes"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 69, out.stderr
    assert "数据库不可用" in out.stderr and "Connection refused" in out.stderr
    assert "Traceback" not in out.stderr
