"""The embedded broker polls its SQLite queues often while a worker waits for a free
slot or has just had work, and backs off while it is idle (a real kombu connection on a
real SQLite file)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue

from dms.worker.broker import IDLE_POLLING_INTERVAL, broker_url

BASE = 0.05


def test_idle_polling_backs_off_and_work_resets_it(tmp_path: Path) -> None:
    url = broker_url(f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    queue = Queue("pages", Exchange("pages"), routing_key="pages")
    got: list[Any] = []
    with Connection(url, transport_options={"polling_interval": BASE}) as conn:
        channel = conn.default_channel
        consumer = conn.Consumer(queue, channel=channel, callbacks=[lambda body, msg: (
            got.append(body))])
        consumer.qos(prefetch_count=1)
        with consumer:
            transport = conn.transport
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=2.0)
            assert transport._interval == IDLE_POLLING_INTERVAL  # idle: backed off
            producer = conn.Producer(channel)
            for n in (1, 2):
                producer.publish({"n": n}, exchange=queue.exchange, routing_key="pages",
                                 declare=[queue])
            conn.drain_events(timeout=5)
            assert got == [{"n": 1}] and transport._interval == BASE  # work: reset
            # The one slot is taken (not acked): waiting for the slot, not for work, the
            # worker keeps the short interval so it takes the next task at once.
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=1.0)
            assert got == [{"n": 1}] and transport._interval == BASE
