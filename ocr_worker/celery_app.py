"""The Celery application, configured from the one Settings object.

Embedded mode uses kombu's SQLAlchemy transport on a SQLite file: a broker that
needs no server. Scale-out points ``DMS_BROKER_URL`` at Redis.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init

from dms.errors import DmsError
from dms.services.container import Services, build_services
from dms.services.ocr_flow import document_time_limits, page_time_limits
from dms.settings import Settings
from ocr_worker.broker import broker_url

QUEUE = "dms"


def make_celery(settings: Settings) -> Celery:
    settings.ensure_dirs()
    app = Celery("dms", broker=broker_url(settings.broker_url),
                 include=["ocr_worker.tasks", "ocr_worker.classify_tasks",
                          "ocr_worker.lifecycle_tasks", "ocr_worker.report_tasks"])
    soft_limit, hard_limit = page_time_limits(settings)
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith("sqla+"):
        # Poll often: the SQL transport has no push, and a page passes through three tasks
        # (split, read, finish), each waiting up to one interval: at 0.2 s that was a
        # tenth of a page's time. An idle poll is one indexed SELECT on SQLite.
        transport_options["polling_interval"] = 0.05
    else:
        # Redis: redeliver an unacked task an hour after a worker vanished.
        transport_options["visibility_timeout"] = 3600
    app.conf.update(
        task_default_queue=QUEUE,
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
        # Splitting a document takes longer the more pages it has (its own budget inside).
        task_annotations={"dms.ocr_document": dict(zip(
            ("soft_time_limit", "time_limit"), document_time_limits(settings), strict=True))},
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_always_eager=settings.task_always_eager,
        worker_concurrency=settings.worker_concurrency or os.cpu_count() or 1,
        beat_schedule={
            "requeue-stalled-ocr": {"task": "dms.requeue_stalled", "schedule": 300.0},
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


@worker_init.connect
def _load_page_tools(sender: Any = None, **_: Any) -> None:
    """Load, once in the worker's main process, what every pool process would otherwise
    load on its first page: the text-layer font (~1 s to parse) and OpenCC's tables. The
    pool processes are forked from it with them in memory. (Tesseract's models are loaded
    in each pool process: library handles must not cross a fork.)"""
    from ocr_worker.han_script import preload
    from ocr_worker.text_layer import text_font

    text_font()
    app = getattr(sender, "app", None)
    settings = getattr(app, "dms_settings", None)
    preload(settings.ocr_traditional_variant if settings is not None else "s2t")


@worker_process_init.connect
def _load_tesseract(**_: Any) -> None:
    """Each pool process loads the tesseract models it will use before taking pages (0.6 s,
    once per process, not on the first page)."""
    from celery import current_app

    settings = getattr(current_app, "dms_settings", None)
    if settings is None:
        return
    from ocr_worker import tesseract_api
    from ocr_worker.engine import TesseractEngine

    engine = TesseractEngine()
    wanted = []
    if settings.ocr_orientation_engine == "tesseract":  # crops: first language, one block
        wanted.append((settings.ocr_languages.split("+")[0], engine.psm_for("block")))
    if settings.ocr_engine == "tesseract":
        wanted.append((settings.ocr_languages, engine.psm_for("auto")))
    for languages, psm in wanted:
        try:
            tesseract_api.load_models(languages, psm)
        except DmsError as exc:  # the first page reports it, with its hint, as a page error
            logging.getLogger(__name__).warning("tesseract %s not loaded: %s", languages, exc)


_services: dict[int, Services] = {}


def services_for(app: Celery) -> Services:
    """One Services per process: engines and index handles must not cross a fork."""
    pid = os.getpid()
    if pid not in _services:
        services = build_services(app.dms_settings)  # type: ignore[attr-defined]
        # Index updates that fail after commit are retried through the queue (issue 17).
        services.index_retry = lambda ids: app.send_task("dms.reindex_documents", args=[ids])
        _services[pid] = services
    return _services[pid]


from ocr_worker import heartbeat  # noqa: E402,F401  (connects the worker heartbeat signals)
