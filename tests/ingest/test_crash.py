"""A crash (SIGKILL) or Ctrl-C mid-run leaves nothing half-written; the re-run completes."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from dms.db.models import Document, IngestBatch, IngestFile
from ingest import Progress, ingest_folder
from tests.ingest.conftest import (RecordingDispatcher, jpeg_bytes, make_services, pdf_bytes,
                                   png_bytes, write)

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from tests.ingest.conftest import RecordingDispatcher, make_services
    from ingest import Progress, ingest_folder

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
    proc = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), str(root), "17"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    svc = make_services(data_dir)
    with svc.sessions() as s:
        before = len(list(s.scalars(select(Document))))
    objects_before = len(list(svc.store.iter_keys("originals/")))
    assert before < objects_before <= 40  # the crash left objects without rows
    dispatcher = RecordingDispatcher()
    rep = ingest_folder(svc, root, dispatcher=dispatcher, workers=4)
    assert rep.quarantined == 0
    assert rep.stored == len(files) - before
    assert len(dispatcher.ocr_documents) == rep.stored  # OCR queued for the new rows only
    svc.close()
    assert_complete(data_dir, files)


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
