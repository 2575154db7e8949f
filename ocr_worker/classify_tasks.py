"""Celery task: retrain the document classifier in the background.

Cheap when nothing is due (a count of new human decisions), so it may run on a
schedule and after every batch of confirmations; a redelivered task simply finds the
new model already trained.
"""
from __future__ import annotations

import logging

from celery import Task, current_app, shared_task

from ocr_worker.celery_app import services_for

log = logging.getLogger(__name__)


@shared_task(bind=True, name="dms.retrain_classifier", acks_late=True)
def retrain_classifier(self: Task, force: bool = False) -> int | None:
    from dms.classify.training import retrain

    app = self.app if self.app is not None else current_app
    row = retrain(services_for(app), force=force)
    return row.version if row is not None else None
