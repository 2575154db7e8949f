"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, needing no server.

kombu (5.x) hands every transport option to ``create_engine``, so the virtual
transport's own ``polling_interval`` crashes it; this subclass keeps such
options away from SQLAlchemy, lets SQLite wait for a busy writer instead of
failing at once when several worker processes poll the same file, and survives
two processes declaring the queue at the same moment.
"""
from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

ALIAS = "dmssqla"
_NOT_FOR_ENGINE = {"polling_interval", "queue_tablename", "message_tablename", "callback",
                   "errback", "max_retries", "interval_start", "interval_step", "interval_max",
                   "retry_errors", "visibility_timeout"}


class Channel(kombu_sqla.Channel):
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


class Transport(kombu_sqla.Transport):
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES[ALIAS] = "ocr_worker.broker:Transport"


def broker_url(url: str) -> str:
    """Route ``sqla+…`` URLs through this transport."""
    if url.startswith("sqla+"):
        register()
        return f"{ALIAS}+{url[len('sqla+'):]}"
    return url
