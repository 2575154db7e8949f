"""The Celery application, configured from the one Settings object.

Embedded mode uses kombu's SQLAlchemy transport on a SQLite file: a broker that
needs no server. Scale-out points ``DMS_BROKER_URL`` at Redis.
"""
from __future__ import annotations

import os
from typing import Any

from celery import Celery

from dms.services.container import Services, build_services
from dms.settings import Settings
from ocr_worker.broker import broker_url

QUEUE = "dms"


def make_celery(settings: Settings) -> Celery:
    settings.ensure_dirs()
    app = Celery("dms", broker=broker_url(settings.broker_url), include=["ocr_worker.tasks"])
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith("sqla+"):
        # Poll often: the SQL transport has no push; 0.2 s keeps pages flowing.
        transport_options["polling_interval"] = 0.2
    else:
        # Redis: redeliver an unacked task an hour after a worker vanished.
        transport_options["visibility_timeout"] = 3600
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_time_limit=settings.ocr_page_timeout_s * 2 + 60,
        task_soft_time_limit=settings.ocr_page_timeout_s * 2,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_always_eager=settings.task_always_eager,
        worker_concurrency=settings.worker_concurrency or os.cpu_count() or 1,
        beat_schedule={
            "requeue-stalled-ocr": {"task": "dms.requeue_stalled", "schedule": 300.0},
        },
    )
    app.dms_settings = settings  # type: ignore[attr-defined]
    return app


_services: dict[int, Services] = {}


def services_for(app: Celery) -> Services:
    """One Services per process: engines and index handles must not cross a fork."""
    pid = os.getpid()
    if pid not in _services:
        _services[pid] = build_services(app.dms_settings)  # type: ignore[attr-defined]
    return _services[pid]
