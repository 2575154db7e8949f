"""The periodic reminder/urging sweep (Celery beat, ``dms.reminders_sweep``).

Idempotent: a task urged in one sweep is not urged again before its next slot, so a
redelivered or doubled sweep sends nothing twice.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import Task, current_app, shared_task

from dms.services.reminders import run_sweep
from ocr_worker.celery_app import services_for

log = logging.getLogger(__name__)


@shared_task(bind=True, name="dms.reminders_sweep", acks_late=True)
def reminders_sweep(self: Task) -> dict[str, int]:
    app = self.app if self.app is not None else current_app
    report = run_sweep(services_for(app), datetime.now(UTC))
    log.info("reminder sweep: %s", report)
    return dict(report.__dict__)
