"""The periodic reminder/urging sweep (Celery beat, ``dms.reminders_sweep``).

Idempotent: a task urged in one sweep is not urged again before its next slot, so a
redelivered or doubled sweep sends nothing twice.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from dms.services.reminders import run_sweep
from dms.worker.task import TaskContext, dms_task

log = logging.getLogger(__name__)


@dms_task("dms.reminders_sweep")
def reminders_sweep(ctx: TaskContext) -> dict[str, int]:
    report = run_sweep(ctx.services, datetime.now(UTC))
    log.info("reminder sweep: %s", report)
    return dict(report.__dict__)
