"""What /healthz reports: each component ok / degraded / down, with the reason and the fix.

Overall: the worst component. ``down`` (HTTP 503) means a part the system cannot serve
without (database, object store, search index, broker); ``degraded`` (HTTP 200) means it
serves but something waits (no OCR worker alive, an OCR backlog that does not move).
Worker heartbeats are rows each worker's main process refreshes (``WorkerHeartbeat``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dms.db.models import Document, Page
from dms.db.models_ops import WorkerHeartbeat
from dms.errors import DmsError
from dms.services.container import Services

log = logging.getLogger(__name__)

Status = Literal["ok", "degraded", "down"]
_RANK = {"ok": 0, "degraded": 1, "down": 2}
HEARTBEAT_EVERY_S = 15.0
HEARTBEAT_STALE = timedelta(seconds=60)  # four missed beats: the worker is gone
BACKLOG_STUCK = timedelta(minutes=30)  # the oldest waiting page this old: OCR is not moving
WAITING = ("pending", "retrying", "running")


@dataclass
class Component:
    status: Status
    reason: str = ""
    fix: str = ""
    details: dict[str, Any] | None = None


def _as_utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _error(exc: Exception) -> str:
    return exc.message if isinstance(exc, DmsError) else f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ heartbeats


def beat(sessions: sessionmaker[Session], name: str, concurrency: int) -> None:
    """Insert or refresh this worker's row (called every HEARTBEAT_EVERY_S seconds)."""
    now = datetime.now(UTC)
    with sessions() as s:
        row = s.get(WorkerHeartbeat, name)
        if row is None:
            s.add(WorkerHeartbeat(name=name, started_at=now, seen_at=now,
                                  concurrency=concurrency))
        else:
            row.seen_at, row.concurrency = now, concurrency
        # Rows of workers gone for a day: keep the table small, the report clear.
        s.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.seen_at < now - timedelta(days=1)))
        s.commit()


def forget(sessions: sessionmaker[Session], name: str) -> None:
    """A worker that shuts down cleanly leaves at once instead of going stale."""
    with sessions() as s:
        s.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))
        s.commit()


# ------------------------------------------------------------------ components


def check_database(services: Services) -> Component:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return Component("ok")
    except Exception as exc:  # report, don't raise: this exists to say what is wrong
        return Component("down", _error(exc), "check DMS_DATABASE_URL and the database server")


def check_object_store(services: Services) -> Component:
    try:
        services.store.exists("healthz/probe")
        return Component("ok", details={"backend": services.store.name})
    except Exception as exc:
        return Component("down", _error(exc), "check the object store (DMS_OBJECT_STORE, "
                                               "DMS_S3_*) and its server or disk")


def check_search_index(services: Services) -> Component:
    try:
        index = services.index
        index.refresh()
        return Component("ok", details={"backend": index.name, "pages": index.count()})
    except Exception as exc:
        return Component("down", _error(exc), "`dms reindex` rebuilds the index from the "
                                               "database (the server may keep running)")


BrokerProbe = Callable[[str], None]  # connects to the broker URL, raises if it cannot


def check_broker(services: Services, probe: BrokerProbe) -> Component:
    """The broker, through the worker layer's probe (it knows the broker adapter)."""
    try:
        probe(services.settings.broker_url)
        return Component("ok")
    except Exception as exc:
        return Component("down", _error(exc), "check DMS_BROKER_URL and the broker "
                                               "(redis-server) — OCR work cannot be queued")


def check_workers_and_backlog(services: Services) -> tuple[Component, Component]:
    now = datetime.now(UTC)
    try:
        with services.sessions() as s:
            beats = list(s.scalars(select(WorkerHeartbeat)))
            waiting = s.scalar(select(func.count()).select_from(Page)
                               .where(Page.ocr_status.in_(WAITING))) or 0
            queued_docs = s.scalar(select(func.count()).select_from(Document)
                                   .where(Document.ocr_status == "queued")) or 0
            oldest = s.scalar(select(func.min(Document.updated_at)).where(
                Document.ocr_status.in_(("queued", "ocr"))))
    except Exception as exc:
        down = Component("down", _error(exc), "the database is needed to see them")
        return down, down
    alive = [b for b in beats if now - _as_utc(b.seen_at) <= HEARTBEAT_STALE]
    details = {"alive": len(alive), "processes": sum(b.concurrency for b in alive),
               "names": sorted(b.name for b in alive)}
    workers = (Component("ok", details=details) if alive else
               Component("degraded", "no OCR worker heartbeat in the last "
                         f"{HEARTBEAT_STALE.seconds} s", "start `dms worker`", details))
    age = (now - _as_utc(oldest)) if oldest is not None else timedelta(0)
    backlog_details = {"pages_waiting": waiting, "documents_queued": queued_docs,
                       "oldest_waiting_s": int(age.total_seconds())}
    if (waiting or queued_docs) and not alive:
        backlog = Component("degraded", "OCR work is waiting and no worker is alive",
                            "start `dms worker`", backlog_details)
    elif age > BACKLOG_STUCK:
        backlog = Component("degraded", f"the oldest OCR work has waited "
                            f"{int(age.total_seconds() // 60)} min",
                            "add workers, or `dms ocr --resume` if work was lost",
                            backlog_details)
    else:
        backlog = Component("ok", details=backlog_details)
    return workers, backlog


def health_report(services: Services,
                  broker_probe: BrokerProbe) -> tuple[Status, dict[str, Component]]:
    workers, backlog = check_workers_and_backlog(services)
    components = {
        "database": check_database(services),
        "object_store": check_object_store(services),
        "search_index": check_search_index(services),
        "broker": check_broker(services, broker_probe),
        "workers": workers,
        "ocr_backlog": backlog,
    }
    overall: Status = max((c.status for c in components.values()), key=_RANK.__getitem__)
    return overall, components


def as_json(overall: Status, components: dict[str, Component]) -> dict[str, Any]:
    return {"status": overall,
            "components": {k: {f: v for f, v in asdict(c).items() if v not in ("", None)}
                           for k, c in components.items()},
            # the short form earlier clients read: "ok" or the reason
            "checks": {k: c.status if c.status == "ok" else f"{c.status}: {c.reason}"
                       for k, c in components.items()}}
