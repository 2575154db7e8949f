"""The ingest engine: (relative path, local file) items in, documents and reports out.

Per file, in a worker thread: hash (streamed), place by the folder convention,
skip if the content is already a document, validate, upload the original under
its content key. Then, in the calling thread only, small DB transactions insert
Customer/Business/Document/IngestFile rows (ingest.writer); OCR is queued after commit.

Crash safety follows from the order: the object is uploaded (atomically) before
its row exists, rows are committed before the ledger remembers them, and a
re-run treats "object exists, no row" as "insert the row". Nothing is ever
half-written, and nothing is lost.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from functools import partial
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from dms.db.models import Business, Customer, Document
from dms.db.session import session_scope
from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from dms.storage import content_key
from ingest.layout import Item, Ledger, Placement, check_root, load_manifest, place, walk
from ingest.report import BatchReport, Progress, ProgressCallback
from ingest.sniff import Rejected, hash_file, inspect
from ingest.owner import HEARTBEAT_EVERY
from ingest.writer import (FileOutcome, RowWriter, Work, beat, create_batch, finish_batch,
                           interrupt_orphaned_batches, recorded_paths, resume_batch)

FLUSH_EVERY = 64  # rows per transaction: few fsyncs, little lost work on a crash
FLUSH_SECONDS = 1.0
LEDGER_NAME = "ingest-ledger.sqlite"

__all__ = ["FileOutcome", "IngestRun", "create_batch", "finish_batch", "ingest_folder"]

class IngestRun:
    """Feeds items through the worker pool into one batch. Not thread-safe itself."""

    def __init__(self, services: Services, dispatcher: Dispatcher, batch_id: int, *,
                 workers: int = 8, manifest: dict[str, dict[str, str]] | None = None,
                 progress: ProgressCallback | None = None,
                 on_result: Callable[[FileOutcome], None] | None = None,
                 ledger: Ledger | None = None, ledger_root: str = "",
                 totals: tuple[int, int] = (0, 0),
                 heartbeat: Callable[[], None] | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.store = services.store
        self.dispatcher = dispatcher
        self.batch_id = batch_id
        self.workers = max(1, workers)
        self.manifest = manifest or {}
        self.progress = progress
        self.on_result = on_result
        self.ledger = ledger
        self.ledger_root = ledger_root
        self.files_total, self.bytes_total = totals
        self.files_done = self.bytes_done = 0
        self.warnings: list[str] = []
        self._buffer: list[Work] = []
        self._last_flush = time.monotonic()
        self._t0 = time.monotonic()
        self._local = threading.local()
        self._conns: list[Connection] = []
        self._conns_lock = threading.Lock()
        self._owners: dict[str, str] = {}  # business_no -> customer_no (workers' cache)
        self._writer = RowWriter(batch_id, dispatcher, self._quarantine)
        self._heartbeat = heartbeat
        self._last_beat = time.monotonic()

    # --- driving -------------------------------------------------------------------------
    def run(self, items: Iterable[Item]) -> None:
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ingest")
        inflight: set[Future[Work | None]] = set()
        try:
            it = iter(items)
            while chunk := list(islice(it, 256)):
                for item, ready in self._fast_path(chunk):
                    if ready is not None:
                        self._accept(ready)
                        continue
                    while len(inflight) >= self.workers * 2:  # bounded: memory stays flat
                        inflight = self._drain(inflight, FIRST_COMPLETED)
                    inflight.add(pool.submit(self._process, item))
            while inflight:
                inflight = self._drain(inflight, FIRST_COMPLETED)
        finally:
            # On Ctrl-C/errors: keep what is complete (uploaded objects get their rows),
            # drop queued work; the next run picks it up.
            pool.shutdown(wait=True, cancel_futures=True)
            for conn in self._conns:
                conn.close()
            for fut in inflight:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    res = fut.result()
                    if res is not None:
                        self._buffer.append(res)
            self._flush()

    def _drain(self, inflight: set[Future[Work | None]],
               how: str) -> set[Future[Work | None]]:
        done, pending = wait(inflight, timeout=FLUSH_SECONDS, return_when=how)
        self._beat()
        for fut in done:
            res = fut.result()  # a StorageError aborts the batch: the store is unusable
            if res is not None:
                self._accept(res)
        if not done:
            self._flush()
        return pending

    def _beat(self) -> None:
        # Here because the calling thread passes by at least once a FLUSH_SECONDS, even
        # while every worker is stuck on a huge file.
        if self._heartbeat is not None and \
                time.monotonic() - self._last_beat >= HEARTBEAT_EVERY.total_seconds():
            self._last_beat = time.monotonic()
            self._heartbeat()

    def _accept(self, work: Work) -> None:
        self._buffer.append(work)
        if len(self._buffer) >= FLUSH_EVERY or time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self._flush()

    # --- the re-run fast path ------------------------------------------------------------
    def _fast_path(self, chunk: list[Item]) -> Iterator[tuple[Item, Work | None]]:
        """Pair each item with a finished verdict when the ledger proves it unchanged."""
        known = self.ledger.lookup(self.ledger_root, chunk) if self.ledger else {}
        shas = {v[0] for v in known.values() if v[1] == "document"}
        docs: dict[str, int] = {}
        if shas:  # correctness never rests on the ledger: the document must still exist
            with self.services.sessions() as s:
                docs = dict(s.execute(select(Document.sha256, Document.id)
                                      .where(Document.sha256.in_(shas))).all())  # type: ignore[arg-type]
        for item in chunk:
            hit = known.get(item.rel_path)
            work = None
            if hit is not None:
                sha, outcome, reason, qkey = hit
                if outcome == "document" and sha in docs:
                    work = Work(item, "duplicate", sha, f"unchanged since an earlier run;"
                                 f" document {docs[sha]}", document_id=docs[sha])
                elif outcome in ("quarantined", "misplaced") and qkey and self._still_bad(
                        item, outcome, reason) and self.store.exists(qkey):
                    work = Work(item, "quarantined", sha, reason, key=qkey)
            yield item, work

    def _still_bad(self, item: Item, outcome: str, reason: str) -> bool:
        # A fixed manifest can turn a misplaced file into a good one: re-check placement.
        placed = place(item.rel_path, self.manifest, self.services.checklist)
        return placed == reason if outcome == "misplaced" else isinstance(placed, Placement)

    # --- per file, in worker threads -----------------------------------------------------
    def _process(self, item: Item) -> Work | None:
        try:
            sha, head = hash_file(item.path)
        except OSError as exc:  # vanished or unreadable: nothing to keep, say so
            return Work(item, "quarantined", "", f"cannot read file: {exc.strerror or exc}")
        if item.name_problem:
            return self._quarantine(item, sha, item.name_problem, "")
        placed = place(item.rel_path, self.manifest, self.services.checklist)
        if isinstance(placed, str):
            return self._quarantine(item, sha, placed, "misplaced")
        existing = self._document_id(sha)
        if existing is not None:
            return Work(item, "duplicate", sha, f"same content as document {existing}",
                         placed, document_id=existing, ledger_outcome="document")
        try:
            insp = inspect(item.path, item.rel_path, head, item.size,
                           max_pages=self.settings.ocr_max_pages,
                           max_pixels=self.settings.ocr_max_pixels)
        except Rejected as exc:
            return self._quarantine(item, sha, str(exc), "quarantined")
        conflict = self._business_conflict(placed)
        if conflict:
            return self._quarantine(item, sha, conflict, "misplaced")
        key = content_key("originals", sha, insp.suffix)
        # Uploaded even if a crashed run left it there: re-putting the same bytes under
        # the same key is harmless, and a HEAD per file would cost more than the few
        # objects a crash can leave (at most one flush plus the in-flight files).
        self.store.put_file(key, item.path, insp.mime)
        if self._changed(item):
            self._discard_changed(item, sha, key)
            return None
        return Work(item, "store", sha, "", placed, insp, key, ledger_outcome="document")

    def _quarantine(self, item: Item, sha: str, reason: str, ledger_outcome: str) -> Work:
        # Nothing the station sent is lost: the bytes go to quarantine/<sha256>.
        key = f"quarantine/{sha}"
        if not self.store.exists(key):
            self.store.put_file(key, item.path, "application/octet-stream")
        return Work(item, "quarantined", sha, reason, key=key, ledger_outcome=ledger_outcome)

    def _changed(self, item: Item) -> bool:
        if not item.mtime_ns:  # upload temp files are ours and cannot change
            return False
        try:
            st = os.stat(item.path)
        except OSError:
            return True
        return (st.st_size, st.st_mtime_ns) != (item.size, item.mtime_ns)

    def _discard_changed(self, item: Item, sha: str, key: str) -> None:
        # The uploaded bytes may not match the key; drop them unless a document owns it.
        if self._document_id(sha) is None:
            self.store.delete(key)
        self.warnings.append(f"{item.rel_path}: changed while being ingested; run again")

    def _conn(self) -> Connection:
        """This worker thread's own DB connection, kept for the run.

        Checking one out per query would overflow the engine's pool with 8 threads and
        pay for a new SQLite connection (and its PRAGMAs) on nearly every file.
        """
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.services.engine.connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _read(self, stmt: Any) -> Any:
        conn = self._conn()
        try:
            return conn.execute(stmt).scalar()
        finally:
            conn.rollback()  # end the read transaction at once: never pin an old snapshot

    def _document_id(self, sha: str) -> int | None:
        found: int | None = self._read(select(Document.id).where(Document.sha256 == sha))
        return found

    def _business_conflict(self, p: Placement) -> str:
        if not p.business_no:
            return ""
        owner = self._owners.get(p.business_no)
        if owner is None:
            owner = self._read(select(Customer.customer_no).join(Business).where(
                Business.business_no == p.business_no)) or ""
            # Cached even when unknown ("") so a new business costs one query, not one per
            # file: this is only an early check, the DB thread re-checks before inserting.
            self._owners[p.business_no] = owner
        if owner and owner != p.customer_no:
            return (f"business {p.business_no} belongs to customer {owner},"
                    f" not {p.customer_no}")
        return ""

    # --- DB writes, in the calling thread only ------------------------------------------
    def _flush(self) -> None:
        buf, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        if not buf:
            return
        try:
            with session_scope(self.services.sessions) as s:
                done = self._writer.write(s, buf)
        except IntegrityError:
            self._writer.reset()
            # Another process (the upload API, a second CLI) won a race: retry one by one,
            # each now seeing the other's committed rows.
            done = [self._write_alone(w) for w in buf]
        if self.ledger is not None:
            self.ledger.remember(self.ledger_root, [
                (o_item, o.sha256, led, o.reason, o.quarantine_key or "")
                for (o_item, led, o) in done if led])
        for o_item, _led, o in done:
            self.files_done += 1
            self.bytes_done += o_item.size
            if self.on_result is not None:
                self.on_result(o)
            if self.progress is not None:
                self.progress(Progress(self.files_done, max(self.files_total, self.files_done),
                                       self.bytes_done, max(self.bytes_total, self.bytes_done),
                                       time.monotonic() - self._t0, o.rel_path))

    def _write_alone(self, w: Work) -> tuple[Item, str, FileOutcome]:
        for attempt in range(3):
            try:
                with session_scope(self.services.sessions) as s:
                    return self._writer.write(s, [w])[0]
            except IntegrityError:
                self._writer.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

def count_items(root: Path) -> tuple[int, int]:
    """A cheap first pass for totals (progress ETA) that keeps no per-file state."""
    files = size = 0
    for item in walk(root):
        files += 1
        size += item.size
    return files, size


def ingest_folder(services: Services, root: Path, *, dispatcher: Dispatcher, workers: int = 8,
                  progress: ProgressCallback | None = None,
                  items: Iterable[Item] | None = None) -> BatchReport:
    """Ingest every file under *root* (or the given subset *items*) as one batch.

    A batch left "running" by a killed process is marked interrupted first; a whole-folder
    run then resumes the folder's interrupted batch, adding only the files it lacks.
    """
    root = check_root(Path(root))
    manifest = load_manifest(root)
    t0 = time.monotonic()
    interrupt_orphaned_batches(services, datetime.now(UTC))
    totals = count_items(root) if items is None else (0, 0)
    resumed = resume_batch(services, str(root)) if items is None else None
    batch_id = resumed if resumed is not None else create_batch(services, str(root))
    if items is None:
        done = recorded_paths(services, batch_id) if resumed is not None else set()
        items = (item for item in walk(root) if item.rel_path not in done)
    ledger = Ledger(services.settings.data_dir / LEDGER_NAME)
    run = IngestRun(services, dispatcher, batch_id, workers=workers, manifest=manifest,
                    progress=progress, ledger=ledger, ledger_root=str(root), totals=totals,
                    heartbeat=partial(beat, services, batch_id))
    try:
        run.run(items)
    except BaseException:
        try:  # best effort: the original error matters more than a failed report
            finish_batch(services, batch_id, status="interrupted", warnings=run.warnings,
                         elapsed_s=time.monotonic() - t0)
        except Exception:
            pass
        raise
    finally:
        ledger.close()
    missing = [p for p in manifest if not (root / p).is_file()]
    warnings = run.warnings + [f"manifest.csv lists a missing file: {p}" for p in missing[:100]]
    if len(missing) > 100:
        warnings.append(f"… and {len(missing) - 100} more missing manifest entries")
    return finish_batch(services, batch_id, warnings=warnings, elapsed_s=time.monotonic() - t0)
