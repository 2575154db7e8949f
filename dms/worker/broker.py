"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, needing no server.

kombu (5.x) hands every transport option to ``create_engine``, so the virtual
transport's own ``polling_interval`` crashes it; this subclass keeps such
options away from SQLAlchemy, asks the queues in the worker's order (documents first) at
every fetch instead of kombu's round-robin, lets SQLite wait for a busy writer instead of
failing at once when several worker processes poll the same file, and survives
two processes declaring the queue at the same moment.
"""
from __future__ import annotations

from queue import Empty
from time import monotonic, sleep
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from kombu.utils.scheduling import FairCycle
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError

ALIAS = "dmssqla"
_NOT_FOR_ENGINE = {"polling_interval", "queue_tablename", "message_tablename", "callback",
                   "errback", "max_retries", "interval_start", "interval_step", "interval_max",
                   "retry_errors", "visibility_timeout", "queue_order_strategy"}


class InOrder(FairCycle):
    """Ask the queues from the first at every fetch: the order is the priority.

    kombu's virtual transports always cycle round-robin over the consumed queues (only
    the Redis transport reads ``queue_order_strategy``), so a worker serving documents
    and pages would take a finalize only every other fetch, behind a page."""

    def get(self, callback: Any, **kwargs: Any) -> Any:
        self.pos = 0
        return super().get(callback, **kwargs)


class Channel(kombu_sqla.Channel):
    _queue_ids: dict[str, int]

    def _reset_cycle(self) -> None:
        self._cycle = InOrder(self._get_and_deliver, self._active_queues, Empty)

    def _get(self, queue: str, timeout: Any = None) -> Any:
        # kombu takes SQLite's write lock (BEGIN IMMEDIATE) for every poll, and an idle
        # worker polls 20 times a second: measured 0.046 CPU-s/s idle, and every poll
        # competes with the processes publishing tasks. Look first, without the lock;
        # only a queue with a visible message goes through kombu's locked read (which
        # still decides who gets it, so two pollers never take the same message).
        if self.session.bind.name == "sqlite":
            ids = self.__dict__.setdefault("_queue_ids", {})
            if queue not in ids:
                ids[queue] = self._get_or_create(queue).id
            table = self.message_cls.__table__
            waiting = self.session.execute(
                select(table.c.id).where(table.c.queue_id == ids[queue],
                                         table.c.visible.is_(True)).limit(1)).first()
            self.session.commit()
            if waiting is None:
                raise Empty()
        return super()._get(queue)

    def _get_or_create(self, queue: str) -> Any:
        # Two processes declaring the queue at once: the loser's INSERT violates the
        # unique name; kombu only expects OperationalError there. Re-read instead.
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return super()._get_or_create(queue)

    def _engine_from_config(self) -> Any:
        conninfo = self.connection.client
        opts = {k: v for k, v in conninfo.transport_options.items() if k not in _NOT_FOR_ENGINE}
        if conninfo.hostname.startswith("sqlite"):
            opts.setdefault("connect_args", {"timeout": 60})
        return create_engine(conninfo.hostname, **opts)


# An idle worker backs off from the configured interval to this one: polling a SQLite
# queue 20 times a second cost an idle worker 0.046 CPU-s/s (5% of a core, day and
# night); at 0.5 s it is a tenth of that, and a task queued into an idle system waits at
# most half a second. A worker whose pool is busy keeps the short interval: it is then
# waiting for a free slot, not for work, and must take the next task at once.
IDLE_POLLING_INTERVAL = 0.5
_BACKOFF = 1.5


class Transport(kombu_sqla.Transport):
    Channel = Channel

    _interval: float = 0.0  # the current sleep between empty polls

    # kombu's base and virtual transports declare this method differently; this is the
    # virtual one's signature.
    def drain_events(self, connection: Any, timeout: Any = None) -> Any:  # type: ignore[override]
        start = monotonic()
        base = self.polling_interval or 0.0
        cycle = self.cycle
        assert cycle is not None  # set up with the transport's first channel
        while True:
            try:
                cycle.get(self._deliver, timeout=timeout)
                self._interval = base
                return
            except Empty:
                if timeout is not None and monotonic() - start >= timeout:
                    raise TimeoutError() from None
                # Idle: a consuming channel has a free slot and found nothing.
                idle = any(ch and ch._consumers and ch.qos.can_consume()
                           for ch in self.channels)
                self._interval = (min(max(self._interval, base, 0.01) * _BACKOFF,
                                      IDLE_POLLING_INTERVAL) if idle else base)
                wait = self._interval
                if timeout is not None:
                    wait = min(wait, max(0.0, timeout - (monotonic() - start)))
                sleep(wait)


def register() -> None:
    TRANSPORT_ALIASES[ALIAS] = "dms.worker.broker:Transport"


def broker_url(url: str) -> str:
    """Route ``sqla+…`` URLs through this transport."""
    if url.startswith("sqla+"):
        register()
        return f"{ALIAS}+{url[len('sqla+'):]}"
    return url
