"""``dms init`` (the one-shot set-up of a scaled-out deployment's stores) and the
progress displays of long OCR work (``dms ocr --status``, ``dms ocr --reprocess``).

Run once per deployment (the compose ``init`` service, after ``dms db upgrade``), so
that the many web and worker processes that start next find the bucket and the index
mapping made, instead of racing to create them.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dms.cli_context import CliContext
from dms.db.models import Document
from dms.errors import InvalidInputError
from dms.translations import translator
from dms.services import ocr_flow
from dms.services.indexing import reindex_all
from dms.services.lifecycle import calendar_for
from dms.services.ocr_progress import OcrStatus, ocr_status
from dms.settings import Settings
from search import SearchIndex


@click.command("init", help="Create the object-store bucket and the search index (mapping) "
                            "if missing; safe to run again.")
@click.pass_obj
def init_command(c: CliContext) -> None:
    services = c.services
    store = services.store  # an S3 store creates its bucket when made
    index = services.index  # Elasticsearch: creates the versioned index, alias and mapping
    click.echo(f"object store: {type(store).__name__} ok")
    click.echo(f"search index: {type(index).__name__} ok, {index.count()} pages")


def _local(t: datetime | None, settings: Settings) -> str:
    """A time in the deployment's zone (the holiday calendar's), minutes precision."""
    if t is None:
        return "—"
    return t.astimezone(calendar_for(settings).tz).strftime("%Y-%m-%d %H:%M")


def status_text(st: OcrStatus, settings: Settings) -> str:
    _ = translator(settings.default_locale)
    minutes = st.window.total_seconds() / 60
    lines = [_("识别积压：{documents} 份文档，约 {pages:.0f} 页；最近 {minutes:.0f} 分钟每分钟 "
               "{rate:.1f} 页；预计全部完成：{finish}").format(
        documents=st.backlog_documents, pages=st.backlog_pages, minutes=minutes,
        rate=st.pages_per_minute, finish=_local(st.finish_at, settings))]
    head = (_("批次"), _("开始时间"), _("文档"), _("已识别页"), _("剩余页"), _("完成%"),
            _("预计完成"))
    lines.append("  ".join(head))
    for b in st.batches:
        lines.append("  ".join((
            str(b.batch_id) if b.batch_id is not None else "—", _local(b.started_at, settings),
            str(b.documents), f"{b.pages_read}/{b.pages}", f"{b.pages_left:.0f}",
            f"{b.percent:.0f}", _local(b.finish_at, settings))))
    return "\n".join(lines)


def status_json(st: OcrStatus) -> str:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return json.dumps({
        "now": iso(st.now), "window_minutes": st.window.total_seconds() / 60,
        "pages_per_minute": round(st.pages_per_minute, 2),
        "backlog_pages": round(st.backlog_pages), "backlog_documents": st.backlog_documents,
        "finish_at": iso(st.finish_at),
        "batches": [{"batch_id": b.batch_id, "source": b.source,
                     "started_at": iso(b.started_at), "documents": b.documents,
                     "unsplit_documents": b.unsplit_documents, "pages": b.pages,
                     "pages_read": b.pages_read, "pages_left": round(b.pages_left),
                     "percent": round(b.percent, 1), "finish_at": iso(b.finish_at)}
                    for b in st.batches]}, ensure_ascii=False)


def show_ocr_status(c: CliContext, minutes: int, as_json: bool) -> None:
    if minutes < 1:
        raise InvalidInputError("--minutes: at least 1")
    with c.services.sessions() as s:
        st = ocr_status(s, window=timedelta(minutes=minutes))
    click.echo(status_json(st) if as_json else status_text(st, c.settings))


REPROCESS_CHUNK = 200


def reprocess_with_progress(c: CliContext, ids: list[int], engine: str | None) -> int:
    """Queue documents for OCR again, a chunk per transaction, with a progress bar."""
    n = 0
    with click.progressbar(length=len(ids), label="重新识别排队 queueing", file=sys.stderr,
                           show_pos=True) as bar:
        for i in range(0, len(ids), REPROCESS_CHUNK):
            chunk = ids[i:i + REPROCESS_CHUNK]
            n += ocr_flow.reprocess(c.services, c.dispatcher, chunk, engine=engine)
            bar.update(len(chunk))
    return n


def reindex_with_progress(session: Session, index: SearchIndex, after_id: int) -> int:
    """``reindex_all`` with a progress bar over the documents; the bar's label carries the
    id to resume after (``--after-id``) should the run be interrupted."""
    total = session.scalar(select(func.count()).select_from(Document)
                           .where(Document.id > after_id,
                                  Document.ocr_status.in_(("done", "partial")))) or 0
    with click.progressbar(length=total, label="重建索引 reindexing", file=sys.stderr,
                           show_pos=True, show_eta=True) as bar:
        seen = [0]

        def progress(done: int, last_id: int) -> None:
            bar.label = f"重建索引 reindexing (--after-id {last_id})"
            bar.update(done - seen[0])
            seen[0] = done

        return reindex_all(session, index, after_id=after_id, progress=progress)
