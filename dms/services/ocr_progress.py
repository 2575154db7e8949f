"""How far OCR is: the backlog, the recent rate, and when each ingest batch will be read.

Pages are read oldest batch first (the pages queue is FIFO, see ``dms.worker.routing``),
so a batch's estimated finish is now + (the pages still to read in it and in every older
batch) / (pages read per minute over the last ``window``). A document not yet split into
pages counts with the mean page count of the split documents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dms.db.models import Document, IngestBatch, Page

OPEN_DOCS = ("queued", "rasterising", "ocr")
READ = ("done", "failed")


@dataclass(frozen=True)
class BatchProgress:
    batch_id: int | None  # None: documents that came without a batch
    source: str
    started_at: datetime | None
    documents: int  # of this batch still being read
    unsplit_documents: int  # not yet split into pages
    pages: int  # pages known (of split documents)
    pages_read: int
    pages_left: float  # known pages left + the estimate for unsplit documents
    finish_at: datetime | None  # None: nothing was read in the window, no rate to go by

    @property
    def percent(self) -> float:
        total = self.pages_read + self.pages_left
        return 100.0 * self.pages_read / total if total else 100.0


@dataclass(frozen=True)
class OcrStatus:
    now: datetime
    window: timedelta
    pages_read_in_window: int
    batches: list[BatchProgress]

    @property
    def pages_per_minute(self) -> float:
        return self.pages_read_in_window / (self.window.total_seconds() / 60)

    @property
    def backlog_pages(self) -> float:
        return sum(b.pages_left for b in self.batches)

    @property
    def backlog_documents(self) -> int:
        return sum(b.documents for b in self.batches)

    @property
    def finish_at(self) -> datetime | None:
        return self.batches[-1].finish_at if self.batches else self.now


def _as_utc(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)  # SQLite: naive UTC


def ocr_status(session: Session, *, window: timedelta = timedelta(minutes=15),
               now: datetime | None = None, batch_ids: list[int] | None = None) -> OcrStatus:
    """The backlog per batch, oldest first, with its estimated finish."""
    now = now or datetime.now(UTC)
    read_in_window = session.scalar(select(func.count()).select_from(Page).where(
        Page.ocr_status.in_(READ), Page.ocr_finished_at >= now - window)) or 0
    rate_per_s = read_in_window / window.total_seconds()

    open_docs = select(Document.id, Document.batch_id).where(
        Document.ocr_status.in_(OPEN_DOCS)).subquery()
    pages = {b: (n, r) for b, n, r in session.execute(
        select(open_docs.c.batch_id, func.count(Page.id),
               func.sum(case((Page.ocr_status.in_(READ), 1), else_=0)))
        .join(Page, Page.document_id == open_docs.c.id).group_by(open_docs.c.batch_id))}
    docs = {b: (n, u) for b, n, u in session.execute(
        select(open_docs.c.batch_id, func.count(),
               func.sum(case((Document.page_count == 0, 1), else_=0)))
        .join(Document, Document.id == open_docs.c.id).group_by(open_docs.c.batch_id))}
    mean_pages = session.scalar(select(func.avg(Document.page_count))
                                .where(Document.page_count > 0)) or 1.0
    meta = {b.id: b for b in session.scalars(select(IngestBatch).where(
        IngestBatch.id.in_([b for b in docs if b is not None])))}

    out, ahead = [], 0.0
    # Oldest first: batches by id (ids grow with time); documents without a batch last.
    for batch_id in sorted(docs, key=lambda b: (b is None, b or 0)):
        n_docs, unsplit = docs[batch_id]
        n_pages, n_read = pages.get(batch_id, (0, 0))
        left = (n_pages - (n_read or 0)) + (unsplit or 0) * float(mean_pages)
        ahead += left
        b = meta.get(batch_id) if batch_id is not None else None
        finish = now + timedelta(seconds=ahead / rate_per_s) if rate_per_s else None
        if batch_ids is None or batch_id in batch_ids:
            out.append(BatchProgress(batch_id, b.source if b else "", _as_utc(
                b.started_at) if b else None, n_docs, unsplit or 0, n_pages, n_read or 0,
                left, finish))
    return OcrStatus(now, window, read_in_window, out)
