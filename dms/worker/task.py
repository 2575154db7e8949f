"""The one task decorator of dms: acks, redelivery, retries and time limits in one place.

Every task is idempotent and takes IDs, so every task is declared the same way:

* ``acks_late`` + ``reject_on_worker_lost``: a task whose worker process dies (kill -9,
  OOM) goes back to the queue instead of being lost;
* a transient error (an ``OcrError`` marked retryable, the object store or the database
  unreachable) is retried with exponential backoff and full jitter, so that a hundred
  tasks failing on the same outage do not all come back in the same second;
* the soft/hard time limits and the retry budget come from the settings, per task name,
  through :mod:`dms.worker.routing` (applied as ``task_annotations`` by ``make_celery``).

The wrapped function gets a :class:`TaskContext` instead of the Celery task.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery, Task, current_app, shared_task
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.exc import OperationalError

from dms.errors import OcrError, StorageError
from dms.services.container import Services, build_services
from dms.worker.dispatcher import CeleryDispatcher
from dms.worker.routing import TASKS

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[Exception], ...] = (OcrError, StorageError, OperationalError)
BACKOFF_FACTOR_S = 5
BACKOFF_MAX_S = 300
# An object store that is down or full (S3 stopped, disk full) is not the document's
# fault: its own, longer retry budget (5 s doubling to 5 min: about 35 min), after which
# the beat's requeue of stalled work takes over. Nothing is marked failed for it.
STORAGE_RETRIES = 12


@dataclass(frozen=True)
class TaskContext:
    services: Services
    dispatcher: CeleryDispatcher
    attempt: int  # 1 on the first run
    final_attempt: bool  # no retry follows this one: record failures for good


_services: dict[int, Services] = {}


def services_for(app: Celery) -> Services:
    """One Services per process: engines and index handles must not cross a fork."""
    pid = os.getpid()
    if pid not in _services:
        services = build_services(app.dms_settings)  # type: ignore[attr-defined]
        # Index updates that fail after commit are retried through the queue (issue 17).
        services.index_retry = CeleryDispatcher(app).reindex_documents
        _services[pid] = services
    return _services[pid]


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT) and getattr(exc, "retryable", True)


def backoff_s(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: uniform in [0, min(max, 5 * 2^n)]."""
    return int(get_exponential_backoff_interval(BACKOFF_FACTOR_S, retries, BACKOFF_MAX_S,
                                                full_jitter=True))


def dms_task(name: str) -> Callable[[Callable[..., Any]], Any]:
    """Declare a task; ``name`` must be in :data:`dms.worker.routing.TASKS` (its queue,
    limits and retry budget), so a task cannot be added without a route."""
    spec = TASKS[name]

    def decorate(fn: Callable[..., Any]) -> Any:
        def run(self: Task, *args: Any, **kwargs: Any) -> Any:
            app = self.app if self.app is not None else current_app
            services = services_for(app)
            max_retries = spec.max_retries(services.settings)
            retries = self.request.retries
            ctx = TaskContext(services, CeleryDispatcher(app), retries + 1,
                              final_attempt=retries >= max_retries)
            try:
                return fn(ctx, *args, **kwargs)
            except TRANSIENT as exc:
                if not is_transient(exc):
                    raise
                what = f"{spec.subject} {args[0]}" if spec.subject and args else name
                storage = isinstance(exc, StorageError)
                budget = max(max_retries, STORAGE_RETRIES) if storage else max_retries
                log.warning("%s: %s%s (attempt %s of %s)", what,
                            "object store unavailable: " if storage else "", exc,
                            retries + 1, budget + 1)
                raise self.retry(exc=exc, countdown=backoff_s(retries),
                                 max_retries=budget) from exc

        run.__name__, run.__qualname__ = fn.__name__, fn.__qualname__
        run.__doc__, run.__module__ = fn.__doc__, fn.__module__
        return shared_task(bind=True, name=name, acks_late=True,
                           reject_on_worker_lost=True)(run)

    return decorate
