"""Beat's stalled-work sweep re-queues only lost work, not the backlog.

Behind a long queue every document waits without progress; re-queueing all its pending
pages at every sweep would put the whole backlog into the queue again each time. The
sweep re-queues a page whose claim is orphaned (its process is gone) and splits again a
document that was never split; ``dms ocr --resume`` still re-queues everything.
"""
from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dms.db.migrate import upgrade
from dms.db.models import Customer, Document, Page
from dms.db.session import session_scope
from dms.services import ocr_flow
from dms.services.container import build_services
from dms.settings import Settings
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher
from dms.worker.routing import WORKER_QUEUES

DEAD_PID = 2**22 + 12345  # above pid_max: no such process


def _queued(settings: Settings) -> list[tuple[str, str, list[int]]]:
    out = []
    with make_celery(settings).connection_for_read() as conn:
        for name in WORKER_QUEUES:
            queue = conn.SimpleQueue(name, no_ack=True)
            while True:
                try:
                    msg = queue.get(timeout=0.2)
                except queue.Empty:
                    break
                out.append((name, msg.headers["task"], msg.payload[0]))
            queue.close()
    return out


def test_the_sweep_requeues_orphaned_pages_and_unsplit_documents_only(
        settings: Settings) -> None:
    upgrade(settings.database_url)
    services = build_services(settings)
    dispatcher = CeleryDispatcher(make_celery(settings))
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with session_scope(services.sessions) as s:
        split = Document(sha256="a" * 64, customer=Customer(customer_no="3301000001"),
                         source_name="a.pdf", mime="application/pdf", size_bytes=1,
                         original_key="o/a", ocr_status="ocr", page_count=3)
        split.pages += [
            Page(page_no=1, image_key="p/1", ocr_status="pending"),
            Page(page_no=2, image_key="p/2", ocr_status="running", attempts=1,
                 ocr_started_at=datetime.now(UTC), worker=f"{socket.gethostname()}:{DEAD_PID}"),
            Page(page_no=3, image_key="p/3", ocr_status="done"),
        ]
        unsplit = Document(sha256="b" * 64, customer=Customer(customer_no="3301000002"),
                           source_name="b.pdf", mime="application/pdf", size_bytes=1,
                           original_key="o/b", ocr_status="queued")
        s.add_all([split, unsplit])
        s.flush()
        ids = (split.id, unsplit.id, split.pages[1].id)
    with session_scope(services.sessions) as s:
        s.execute(update(Document).values(updated_at=long_ago))

    n = ocr_flow.requeue_stalled(services, dispatcher, all_pages=False)
    assert n == 2
    assert sorted(_queued(settings)) == [("documents", "dms.ocr_document", [ids[1]]),
                                         ("pages", "dms.ocr_page", [ids[2]])]
    # The documents were touched: the next sweep leaves them alone for a while.
    assert ocr_flow.requeue_stalled(services, dispatcher, all_pages=False) == 0
    assert _queued(settings) == []
    # dms ocr --resume: everything, now.
    assert ocr_flow.requeue_stalled(services, dispatcher, older_than=timedelta(0)) == 2
    assert sorted(_queued(settings)) == [("documents", "dms.ocr_document", [ids[0]]),
                                         ("documents", "dms.ocr_document", [ids[1]])]
    services.close()
