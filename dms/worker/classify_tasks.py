"""Celery task: retrain the document classifier in the background.

Cheap when nothing is due (a count of new human decisions), so it may run on a
schedule and after every batch of confirmations; a redelivered task simply finds the
new model already trained.
"""
from __future__ import annotations

from dms.classify.training import retrain
from dms.worker.task import TaskContext, dms_task


@dms_task("dms.retrain_classifier")
def retrain_classifier(ctx: TaskContext, force: bool = False) -> int | None:
    row = retrain(ctx.services, force=force)
    return row.version if row is not None else None
