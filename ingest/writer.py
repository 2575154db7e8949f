"""The DB side of ingest: batches, and the rows for each file, written from one thread.

Documents, customers and businesses for a whole buffer of files are inserted with
one bulk lookup and one flush, OCR is queued after commit, and ids of rows this
run created are cached so most files cost no extra query.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dms.db.audit import record
from dms.db.models import Business, Customer, Document, IngestBatch, IngestFile
from dms.db.session import after_commit, session_scope
from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from ingest.layout import Item, Placement
from ingest.owner import owner_gone, process_alive, this_process
from ingest.report import BatchReport, build_report
from ingest.sniff import Inspection

ACTOR = "ingest"
RUNNING, INTERRUPTED = "running", "interrupted"


@dataclass(slots=True)
class FileOutcome:
    """What happened to one file (returned per file by the upload API)."""

    rel_path: str
    outcome: str  # stored | duplicate | quarantined
    sha256: str
    size: int
    reason: str = ""
    document_id: int | None = None
    quarantine_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.rel_path, "outcome": self.outcome, "sha256": self.sha256,
                "size": self.size, "reason": self.reason, "document_id": self.document_id,
                "quarantine_key": self.quarantine_key}


@dataclass(slots=True)
class Work:
    """A worker's verdict, handed to the DB thread. ``outcome`` 'store' = insert a row."""

    item: Item
    outcome: str
    sha256: str = ""
    reason: str = ""
    placement: Placement | None = None
    inspection: Inspection | None = None
    key: str | None = None  # original key ('store') or quarantine key
    document_id: int | None = None
    ledger_outcome: str = ""  # document | quarantined | misplaced ('' = don't remember)


#: (customer, business) as ids, or as rows still pending in the current transaction.
_Owner = tuple[Customer | int, Business | int | None]


def create_batch(services: Services, source: str, status: str = "running") -> int:
    with session_scope(services.sessions) as s:
        batch = IngestBatch(source=source[:500], status=status)
        if status == RUNNING:  # a folder run: this process owns it until finish_batch
            me = this_process()
            batch.owner_host, batch.owner_pid = me.host, me.pid
            batch.heartbeat_at = datetime.now(UTC)
        s.add(batch)
        s.flush()
        return batch.id


def beat(services: Services, batch_id: int) -> None:
    """Refresh the heartbeat of a batch this process runs."""
    with session_scope(services.sessions) as s:
        s.execute(update(IngestBatch).where(IngestBatch.id == batch_id)
                  .values(heartbeat_at=datetime.now(UTC)))


def interrupt_orphaned_batches(services: Services, now: datetime) -> list[int]:
    """Mark "interrupted" every running batch whose owner process is gone; their ids."""
    here = this_process()
    with services.sessions() as s:
        running = s.execute(select(IngestBatch.id, IngestBatch.owner_host, IngestBatch.owner_pid,
                                   IngestBatch.heartbeat_at, IngestBatch.started_at)
                            .where(IngestBatch.status == RUNNING)).all()
    orphaned = [bid for bid, host, pid, beat_at, started in running
                if owner_gone(host or "", pid, _aware(beat_at or started), now=now,
                              here=here, alive=process_alive)]
    marked = []
    for bid in orphaned:
        with session_scope(services.sessions) as s:  # claimed by a conditional UPDATE: two
            claimed = s.execute(update(IngestBatch).where(  # sweepers never both mark it
                IngestBatch.id == bid, IngestBatch.status == RUNNING)
                .values(status=INTERRUPTED)).rowcount  # type: ignore[attr-defined]
        if claimed:
            finish_batch(services, bid, status=INTERRUPTED, warnings=[
                "the ingest process stopped without closing the batch (killed?);"
                " run `dms ingest` on the same folder again to complete it"])
            marked.append(bid)
    return marked


def resume_batch(services: Services, source: str) -> int | None:
    """Take over the newest batch of ``source`` if it was interrupted; its id, or None."""
    me = this_process()
    with session_scope(services.sessions) as s:
        last = s.scalar(select(IngestBatch).where(IngestBatch.source == source[:500])
                        .order_by(IngestBatch.id.desc()).limit(1))
        if last is None or last.status != INTERRUPTED:
            return None
        claimed = s.execute(update(IngestBatch).where(
            IngestBatch.id == last.id, IngestBatch.status == INTERRUPTED).values(
            status=RUNNING, owner_host=me.host, owner_pid=me.pid,
            heartbeat_at=datetime.now(UTC), finished_at=None, report={})).rowcount  # type: ignore[attr-defined]
        return last.id if claimed else None


def recorded_paths(services: Services, batch_id: int) -> set[str]:
    """Relative paths a batch already has a row for (a resumed run skips them)."""
    with services.sessions() as s:
        return set(s.scalars(select(IngestFile.rel_path).where(IngestFile.batch_id == batch_id)))


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at  # SQLite drops the offset


def finish_batch(services: Services, batch_id: int, *, status: str = "done",
                 warnings: list[str] | None = None,
                 elapsed_s: float | None = None) -> BatchReport:
    """Close the batch: report into IngestBatch.report and ``reports/batch-<id>.json|.txt``."""
    with session_scope(services.sessions) as s:
        batch = s.get(IngestBatch, batch_id)
        assert batch is not None
        batch.status = status
        s.flush()
        rep = build_report(s, batch_id, warnings=warnings, elapsed_s=elapsed_s)
        batch.finished_at = datetime.now(UTC)
        batch.report = rep.to_dict()
        services.store.put_bytes(f"reports/batch-{batch_id}.json",
                                 rep.to_json().encode("utf-8"), "application/json")
        services.store.put_bytes(f"reports/batch-{batch_id}.txt",
                                 (rep.summary_text("zh_CN") + "\n" + rep.summary_text("en"))
                                 .encode("utf-8"), "text/plain; charset=utf-8")
        record(s, actor=ACTOR, action="ingest.batch_finished", entity="ingest_batch",
               entity_id=batch_id, to_state=status, data=rep.counts)
    return rep


class RowWriter:
    """Writes the rows of one batch. Used by one thread only (the caller's)."""

    def __init__(self, batch_id: int, dispatcher: Dispatcher,
                 quarantine: Callable[[Item, str, str, str], Work]) -> None:
        self.batch_id = batch_id
        self.dispatcher = dispatcher
        self._quarantine = quarantine  # keeps the bytes of a file refused at write time
        # customer_no / "B:"+business_no -> (id, filled, [customer id]) of committed or
        # flushed rows; cleared whenever a transaction rolls back.
        self._ids: dict[str, tuple[int, ...]] = {}
        self._pending: dict[str, Customer | Business] = {}

    def reset(self) -> None:
        """Forget cached ids after a rollback: they may name rows that never committed."""
        self._ids.clear()
        self._pending.clear()

    def write(self, s: Session, buf: list[Work]) -> list[tuple[Item, str, FileOutcome]]:
        """All rows for *buf* in one transaction, with one bulk lookup and one INSERT batch.

        Per-file queries and flushes through the ORM cost ~6 ms of GIL-holding CPU
        per file, which on a small machine starves the upload threads.
        """
        self._pending.clear()  # leftovers of a transaction that did not commit
        shas = {w.sha256 for w in buf if w.outcome == "store"}
        known: dict[str, int | Document] = dict(s.execute(  # type: ignore[arg-type]
            select(Document.sha256, Document.id).where(Document.sha256.in_(shas))).all()
            ) if shas else {}
        plans: list[tuple[Work, str, str, str, str | None, int | Document | None]] = []
        for w in buf:
            outcome, reason, led = w.outcome, w.reason, w.ledger_outcome
            ref: int | Document | None = w.document_id
            qkey = w.key if outcome == "quarantined" else None
            if outcome == "store":
                assert w.placement is not None
                ref = known.get(w.sha256)
                if ref is not None:  # stored meanwhile, or the same bytes twice in this batch
                    outcome = "duplicate"
                else:
                    with s.no_autoflush:
                        placed = self._owner(s, w.placement)
                    if isinstance(placed, str):
                        qkey = self._quarantine(w.item, w.sha256, placed, "misplaced").key
                        outcome, reason, led = "quarantined", placed, "misplaced"
                    else:
                        ref = known[w.sha256] = self._new_document(s, w, *placed)
                        outcome = "stored"
            plans.append((w, outcome, reason, led, qkey, ref))
        s.flush()  # one batched INSERT for the new documents: now they have ids
        self._settle_pending()
        done = []
        for w, outcome, reason, led, qkey, ref in plans:
            doc_id = ref.id if isinstance(ref, Document) else ref
            if outcome == "duplicate" and not reason:
                reason = f"same content as document {doc_id}"
            if outcome == "stored" and doc_id is not None:
                record(s, actor=ACTOR, action="document.ingested", entity="document",
                       entity_id=doc_id, data={"batch_id": self.batch_id,
                                               "source": w.item.rel_path[:500]})
                # Queue OCR only once the row is committed and visible to the worker.
                after_commit(s, partial(self.dispatcher.ocr_document, doc_id))
            s.add(IngestFile(batch_id=self.batch_id, rel_path=w.item.rel_path[:1000],
                             sha256=w.sha256, size_bytes=w.item.size, outcome=outcome,
                             reason=reason, document_id=doc_id, quarantine_key=qkey))
            done.append((w.item, led, FileOutcome(w.item.rel_path, outcome, w.sha256,
                                                  w.item.size, reason, doc_id, qkey)))
        return done

    def _owner(self, s: Session, p: Placement) -> _Owner | str:
        """Customer and business (ids, or new rows pending in *s*), or a conflict reason.

        New rows are not flushed one by one: the single flush in _write inserts them
        together with the documents that reference them.
        """
        cust: Customer | int | None = self._pending.get(p.customer_no)  # type: ignore[assignment]
        if cust is None:
            cached = self._ids.get(p.customer_no)
            if cached is not None and (cached[1] or not p.customer_name):
                cust = cached[0]
            else:
                row = s.scalar(select(Customer).where(Customer.customer_no == p.customer_no))
                if row is None:
                    cust = self._pending[p.customer_no] = Customer(
                        customer_no=p.customer_no, name=p.customer_name[:200])
                    s.add(cust)
                else:
                    if not row.name and p.customer_name:
                        row.name = p.customer_name[:200]
                    self._ids[p.customer_no] = (row.id, int(bool(row.name)))
                    cust = row.id
        if not p.business_no:
            return cust, None
        key = "B:" + p.business_no
        pend = self._pending.get(key)
        if isinstance(pend, Business):
            return (cust, pend) if pend.customer is cust or pend.customer_id == cust else \
                f"business {p.business_no} belongs to another customer, not {p.customer_no}"
        bcached = self._ids.get(key)
        if bcached is None or (p.business_type and not bcached[1]):
            biz = s.scalar(select(Business).where(Business.business_no == p.business_no))
            if biz is None:
                biz = Business(business_no=p.business_no, business_type=p.business_type)
                if isinstance(cust, Customer):
                    biz.customer = cust
                else:
                    biz.customer_id = cust
                self._pending[key] = biz
                s.add(biz)
                return cust, biz
            if not biz.business_type and p.business_type:
                biz.business_type = p.business_type
            bcached = self._ids[key] = (biz.id, int(bool(biz.business_type)), biz.customer_id)
        if bcached[2] != cust:
            return f"business {p.business_no} belongs to another customer, not {p.customer_no}"
        return cust, bcached[0]

    def _settle_pending(self) -> None:
        """After a flush: remember the ids of the rows created in this transaction."""
        for key, row in self._pending.items():
            if isinstance(row, Customer):
                self._ids[key] = (row.id, int(bool(row.name)))
            else:
                self._ids[key] = (row.id, int(bool(row.business_type)), row.customer_id)
        self._pending.clear()

    def _new_document(self, s: Session, w: Work, cust: Customer | int,
                      biz: Business | int | None) -> Document:
        assert w.placement is not None and w.inspection is not None and w.key
        p, insp = w.placement, w.inspection
        doc = Document(
            sha256=w.sha256,
            doc_type=p.doc_type or None, type_confidence=1.0 if p.doc_type else None,
            type_confirmed=bool(p.doc_type), title=Path(w.item.rel_path).stem[:300],
            source_name=w.item.rel_path[:500], mime=insp.mime, size_bytes=w.item.size,
            original_key=w.key, page_count=insp.pages, ocr_status="queued",
            batch_id=self.batch_id, facts={})
        # A relationship for rows pending in this transaction, a plain id otherwise.
        if isinstance(cust, Customer):
            doc.customer = cust
        else:
            doc.customer_id = cust
        if isinstance(biz, Business):
            doc.business = biz
        else:
            doc.business_id = biz
        s.add(doc)
        return doc
