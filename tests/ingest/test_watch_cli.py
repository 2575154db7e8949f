"""--watch mode (only settled files are taken) and the click command."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner
from sqlalchemy import select

from dms.db.models import Document
from dms.services.container import Services
from ingest import BatchReport, watch_folder
from ingest.cli import ingest_command
from ingest.layout import IngestRootError
from tests.ingest.conftest import RecordingDispatcher, pdf_bytes, png_bytes, write


def wait_for(cond: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return True
        time.sleep(0.05)
    return False


def test_watch_waits_for_settled_files(services: Services, tmp_path: Path,
                                       dispatcher: RecordingDispatcher) -> None:
    root = tmp_path / "station"
    root.mkdir()
    reports: list[BatchReport] = []
    stop = threading.Event()
    th = threading.Thread(target=watch_folder, args=(services, root), kwargs=dict(
        dispatcher=dispatcher, workers=2, settle_seconds=0.6, poll_seconds=0.05,
        on_batch=reports.append, stop=stop))
    th.start()
    try:
        full = pdf_bytes(pages=3, seed=5)
        path = root / "3301000001_张三" / "a.pdf"
        path.parent.mkdir()
        with open(path, "wb") as fh:  # a slow copy: half now, the rest a bit later
            fh.write(full[: len(full) // 2])
            fh.flush()
            time.sleep(0.4)
            assert reports == []
            fh.write(full[len(full) // 2:])
        assert wait_for(lambda: len(reports) == 1)
        assert reports[0].counts == {"files": 1, "stored": 1, "duplicate": 0, "quarantined": 0}
        write(root, "3301000002/b.png", png_bytes(seed=9))
        assert wait_for(lambda: len(reports) == 2)
        assert reports[1].files == 1  # already-ingested files are not reported again
        time.sleep(0.3)
        assert len(reports) == 2
    finally:
        stop.set()
        th.join(10)
    with services.sessions() as s:
        doc = s.scalars(select(Document).where(Document.mime == "application/pdf")).one()
        assert doc.sha256 == hashlib.sha256(full).hexdigest()  # never the half-copied file


def test_cli_prints_report(services: Services, tmp_path: Path,
                           dispatcher: RecordingDispatcher) -> None:
    root = tmp_path / "station"
    write(root, "3301000001/a.pdf", pdf_bytes(seed=1))
    write(root, "3301000001/bad.pdf", b"")
    obj = SimpleNamespace(services=services, dispatcher=dispatcher)
    runner = CliRunner()
    res = runner.invoke(ingest_command, [str(root), "--workers", "2", "--json"], obj=obj)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["counts"] == {"files": 2, "stored": 1, "duplicate": 0, "quarantined": 1}
    res = runner.invoke(ingest_command, [str(root), "--locale", "zh_CN"], obj=obj)
    assert res.exit_code == 0 and "重复 1" in res.stdout and "隔离 1" in res.stdout


def test_cli_missing_root_is_exit_2(services: Services, tmp_path: Path,
                                    dispatcher: RecordingDispatcher) -> None:
    obj = SimpleNamespace(services=services, dispatcher=dispatcher)
    res = CliRunner().invoke(ingest_command, [str(tmp_path / "missing")], obj=obj)
    # The dms group maps DmsError.exit_code to the process exit code.
    assert isinstance(res.exception, IngestRootError)
    assert res.exception.exit_code == 2 and "does not exist" in str(res.exception)
