"""A crash (SIGKILL) or Ctrl-C mid-run leaves nothing half-written; the re-run completes."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from click.testing import CliRunner

from dms.cli import cli
from dms.db.models import Document, IngestBatch, IngestFile
from ingest import Progress, create_batch, ingest_folder
from tests.ingest.conftest import (RecordingDispatcher, jpeg_bytes, make_services, pdf_bytes,
                                   png_bytes, write)

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from tests.ingest.conftest import RecordingDispatcher, make_services
    from ingest import Progress, create_batch, ingest_folder

    data_dir, root, kill_after = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    services = make_services(data_dir)
    real = services.store
    uploads = []

    class KillingStore:
        # Dies right after the Nth original is uploaded, before its row can be written.
        def __getattr__(self, name):
            return getattr(real, name)

        def put_file(self, key, path, content_type=None):
            real.put_file(key, path, content_type)
            if key.startswith("originals/"):
                uploads.append(key)
                if len(uploads) >= kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)

    services.__dict__["store"] = KillingStore()
    ingest_folder(services, root, dispatcher=RecordingDispatcher(), workers=4)
    print("finished without crashing")
""")


def make_tree(root: Path, n: int) -> dict[str, bytes]:
    files = {}
    for i in range(n):
        maker = (pdf_bytes, png_bytes, jpeg_bytes)[i % 3]
        ext = (".pdf", ".png", ".jpg")[i % 3]
        c = i % 4  # a business belongs to one customer: derive its number from the customer
        rel = f"33010000{c:02d}/B2023-{c}{i % 2}/scan {i}{ext}"
        if i % 5 == 3:
            rel = f"33010000{c:02d}/scan {i}{ext}"
        files[rel] = maker(seed=i)
        write(root, rel, files[rel])
    write(root, "3301000000/dup.pdf", files[next(iter(files))])
    return files


def assert_complete(data_dir: Path, files: dict[str, bytes]) -> None:
    svc = make_services(data_dir)
    try:
        with svc.sessions() as s:
            docs = list(s.scalars(select(Document)))
            stored = list(s.scalars(select(IngestFile).where(IngestFile.outcome == "stored")))
        shas = {d.sha256 for d in docs}
        assert len(docs) == len(shas) == len(set(files.values()))  # each stored exactly once
        assert len(stored) == len(docs)
        keys = sorted(svc.store.iter_keys("originals/"))
        assert keys == sorted(d.original_key for d in docs)  # no orphans, no rows w/o objects
        for d in docs:
            assert svc.store.size(d.original_key) == d.size_bytes
    finally:
        svc.close()


def test_sigkill_mid_run_then_rerun_completes(tmp_path: Path) -> None:
    root, data_dir = tmp_path / "station", tmp_path / "data"
    files = make_tree(root, 40)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), str(root), "17"],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = child.communicate(timeout=120)  # reaped: its pid no longer exists
    assert child.returncode == -9, err
    svc = make_services(data_dir)
    with svc.sessions() as s:
        before = len(list(s.scalars(select(Document))))
        killed = s.scalars(select(IngestBatch)).one()
        assert (killed.status, killed.owner_pid) == ("running", child.pid)  # left behind
    objects_before = len(list(svc.store.iter_keys("originals/")))
    assert before < objects_before <= 40  # the crash left objects without rows
    dispatcher = RecordingDispatcher()
    rep = ingest_folder(svc, root, dispatcher=dispatcher, workers=4)
    # The re-run completed the killed batch itself: one batch holds every file once.
    assert rep.batch_id == killed.id and rep.status == "done"
    assert rep.quarantined == 0
    assert rep.stored == len(files) and rep.duplicates == 1 and rep.files == len(files) + 1
    assert len(dispatcher.ocr_documents) == len(files) - before  # OCR for the new rows only
    with svc.sessions() as s:
        assert [b.status for b in s.scalars(select(IngestBatch))] == ["done"]
    svc.close()
    assert_complete(data_dir, files)


def _batches_listing(data_dir: Path) -> str:
    env = {"DMS_DATA_DIR": str(data_dir), "DMS_SECRET_KEY": "t" * 32, "DMS_LOG_LEVEL": "WARNING"}
    res = CliRunner().invoke(cli, ["ingest", "--batches", "--locale", "en"], env=env)
    assert res.exit_code == 0, res.output
    return res.output


def test_listing_marks_a_killed_batch_interrupted_but_not_a_live_one(tmp_path: Path) -> None:
    root, data_dir = tmp_path / "station", tmp_path / "data"
    make_tree(root, 12)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), str(root), "3"],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = child.communicate(timeout=120)
    assert child.returncode == -9, err
    svc = make_services(data_dir)
    live = create_batch(svc, str(tmp_path / "other"))  # owned by this (live) process
    listing = _batches_listing(data_dir)
    rows = {int(line.split()[0]): line for line in listing.splitlines()}
    assert "interrupted (run the same folder again" in rows[live - 1]
    assert "running" in rows[live] and "interrupted" not in rows[live]
    with svc.sessions() as s:
        killed = s.get(IngestBatch, live - 1)
        assert killed is not None and killed.status == "interrupted"
        assert killed.finished_at is not None and "killed?" in killed.report["warnings"][0]
    svc.close()


def test_ctrl_c_marks_batch_interrupted(tmp_path: Path) -> None:
    root, data_dir = tmp_path / "station", tmp_path / "data"
    files = make_tree(root, 30)
    svc = make_services(data_dir)

    def interrupt(p: Progress) -> None:
        if p.files_done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_folder(svc, root, dispatcher=RecordingDispatcher(), workers=2, progress=interrupt)
    with svc.sessions() as s:
        batch = s.scalars(select(IngestBatch)).one()
        assert batch.status == "interrupted"
    rep = ingest_folder(svc, root, dispatcher=RecordingDispatcher(), workers=2)
    assert rep.stored + rep.duplicates == len(files) + 1
    svc.close()
    assert_complete(data_dir, files)
