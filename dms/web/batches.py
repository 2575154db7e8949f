"""Ingest batches and how far their OCR is (issue 18: progress for long work).

One row per recent batch: what ingest stored, how many of its documents and pages are
read, and, for a batch still being read, its estimated finish (pages are read oldest
batch first; see ``dms.services.ocr_progress``). Times in the deployment's zone.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import case, func, select

from dms.db.models import Document, IngestBatch, Page
from dms.services.lifecycle import calendar_for
from dms.services.ocr_progress import READ, ocr_status
from dms.web.auth import login_required, services

bp = Blueprint("batches", __name__)
FINISHED = ("done", "partial", "failed")
SHOWN = 50


@bp.route("/ingest/batches")
@login_required
def index() -> Any:
    svc = services()
    tz = calendar_for(svc.settings).tz
    minutes = max(1, min(request.args.get("minutes", 15, type=int) or 15, 24 * 60))

    with svc.sessions() as s:
        batches = s.scalars(select(IngestBatch).order_by(IngestBatch.id.desc())
                            .limit(SHOWN)).all()
        ids = [b.id for b in batches]
        docs = {b: (n, f) for b, n, f in s.execute(
            select(Document.batch_id, func.count(),
                   func.sum(case((Document.ocr_status.in_(FINISHED), 1), else_=0)))
            .where(Document.batch_id.in_(ids)).group_by(Document.batch_id))}
        pages = {b: (n, r) for b, n, r in s.execute(
            select(Document.batch_id, func.count(Page.id),
                   func.sum(case((Page.ocr_status.in_(READ), 1), else_=0)))
            .join(Page, Page.document_id == Document.id)
            .where(Document.batch_id.in_(ids)).group_by(Document.batch_id))}
        st = ocr_status(s, window=timedelta(minutes=minutes), batch_ids=ids)
    open_ = {b.batch_id: b for b in st.batches}
    rows = []
    for b in batches:
        n_docs, n_fin = docs.get(b.id, (0, 0))
        n_pages, n_read = pages.get(b.id, (0, 0))
        prog = open_.get(b.id)
        rows.append({
            "id": b.id, "source": b.source, "status": b.status,
            "started": _local(b.started_at, tz), "documents": n_docs,
            "documents_finished": n_fin or 0, "pages": n_pages, "pages_read": n_read or 0,
            "percent": prog.percent if prog else (100.0 if n_docs else 0.0),
            "pages_left": prog.pages_left if prog else 0,
            "finish": _local(prog.finish_at, tz) if prog else "",
            "reading": prog is not None})
    return render_template("batches.html", rows=rows, st=st, minutes=minutes,
                           finish_all=_local(st.finish_at, tz))


def _local(t: datetime | None, tz: tzinfo) -> str:
    if t is None:
        return "—"
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
