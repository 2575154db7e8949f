"""Queues and their order: a document's short tasks never wait behind a backlog of pages.

Tasks are published before any worker runs (pages first, the finalize last, as a
document's last page would queue it behind a backlog), then one worker process with one
pool process takes them one at a time: the order it receives them is the queue order.
IDs that do not exist make every task a quick no-op, so no OCR time is spent.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from dms.testing.postgres import ThrowawayRedis
from dms.worker.routing import TASKS, WORKER_QUEUES, parse_queues
from tests.worker.conftest import WorkerSystem

MISSING = 10**6

pytestmark = pytest.mark.slow


def _received_order(system: WorkerSystem, expected: int) -> list[str]:
    pattern = re.compile(r"Task (dms\.\w+)\[([0-9a-f-]+)\] received")
    system.wait(lambda: len(pattern.findall(system.log())) >= expected
                and system.log().count(" succeeded in ") >= expected, 120, "tasks done")
    return [task_id for _, task_id in pattern.findall(system.log())]


def _documents_first_then_pages_in_order(system: WorkerSystem) -> None:
    app = system.app
    pages = [app.send_task("dms.ocr_page", args=[MISSING + i]).id for i in range(6)]
    sweep = app.send_task("dms.requeue_stalled").id
    finalize = app.send_task("dms.finalize_document", args=[MISSING]).id
    split = app.send_task("dms.ocr_document", args=[MISSING]).id
    system.start_worker(concurrency=1)
    order = _received_order(system, 9)
    assert set(order[:2]) == {finalize, split}, order  # documents queue first, FIFO in it
    assert order[:2] == [finalize, split]
    assert order[2:8] == pages  # then the pages, oldest first
    assert order[8] == sweep  # periodic work last


def test_the_documents_queue_is_served_first_on_the_embedded_broker(
        worker_system: Callable[..., WorkerSystem]) -> None:
    _documents_first_then_pages_in_order(worker_system())


@pytest.mark.redis
def test_the_documents_queue_is_served_first_on_redis(
        worker_system: Callable[..., WorkerSystem], redis_server: ThrowawayRedis) -> None:
    system = worker_system(DMS_BROKER_URL=redis_server.url.rsplit("/", 1)[0] + "/5")
    system.app.connection_for_write().default_channel.client.flushdb()
    _documents_first_then_pages_in_order(system)


def test_every_task_has_a_queue_a_worker_serves() -> None:
    assert {spec.queue for spec in TASKS.values()} <= set(WORKER_QUEUES)
    assert parse_queues("pages, documents") == ["pages", "documents"]
    with pytest.raises(Exception, match="nope"):
        parse_queues("pages,nope")
