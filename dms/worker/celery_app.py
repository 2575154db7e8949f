"""The Celery application, configured from the one Settings object.

Embedded mode uses kombu's SQLAlchemy transport on a SQLite file: a broker that
needs no server. Scale-out points ``DMS_BROKER_URL`` at Redis.
"""
from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

from dms.services.ocr_flow import page_time_limits
from dms.settings import Settings
from dms.worker import routing
from dms.worker.broker import broker_url

TASK_MODULES = ["dms.worker.tasks", "dms.worker.classify_tasks",
                "dms.worker.lifecycle_tasks", "dms.worker.report_tasks"]


def make_celery(settings: Settings) -> Celery:
    settings.ensure_dirs()
    app = Celery("dms", broker=broker_url(settings.broker_url), include=TASK_MODULES)
    soft_limit, hard_limit = page_time_limits(settings)
    transport_options: dict[str, Any] = {
        # Ask the queues in the order the worker lists them at every fetch (documents
        # first), not round-robin: see dms.worker.routing.
        "queue_order_strategy": "priority",
    }
    if settings.broker_url.startswith("sqla+"):
        # Poll often: the SQL transport has no push, and a page passes through three tasks
        # (split, read, finish), each waiting up to one interval: at 0.2 s that was a
        # tenth of a page's time. An idle poll is one indexed SELECT on SQLite.
        transport_options["polling_interval"] = 0.05
    else:
        # Redis: redeliver an unacked task an hour after a worker vanished.
        transport_options["visibility_timeout"] = 3600
    app.conf.update(
        task_default_queue=routing.DEFAULT,
        task_routes=routing.task_routes(),
        # Per-page parallelism: a worker process holds only the page it is reading (acks
        # late, prefetch 1), so a 200-page document's pages spread over every worker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_time_limit=hard_limit,
        task_soft_time_limit=soft_limit,
        # Per task (splitting a document takes longer the more pages it has).
        task_annotations=routing.task_annotations(settings),
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_always_eager=settings.task_always_eager,
        worker_concurrency=settings.worker_concurrency or os.cpu_count() or 1,
        # A pool process loads its OCR models before it reports up (dms.worker.preload):
        # a second or two of CPU, many more on a loaded machine, where Celery's default of
        # 4 s killed and restarted the process in a loop.
        worker_proc_alive_timeout=60.0,
        beat_schedule={
            "requeue-stalled-ocr": {"task": "dms.requeue_stalled",
                                    "schedule": settings.ocr_stalled_sweep_every_s},
            "retrain-classifier-if-due": {"task": "dms.retrain_classifier", "schedule": 3600.0},
            "reminders-sweep": {"task": "dms.reminders_sweep",
                                "schedule": settings.reminders_sweep_every_s},
            # Mondays 08:30 Beijing time (00:30 UTC): each team leader's weekly report.
            "weekly-team-reports": {"task": "dms.weekly_team_reports",
                                    "schedule": crontab(minute=30, hour=0, day_of_week=1)},
        },
    )
    app.dms_settings = settings  # type: ignore[attr-defined]
    return app
