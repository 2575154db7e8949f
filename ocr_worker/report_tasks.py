"""The weekly team report (Celery beat, ``dms.weekly_team_reports``, Mondays).

Idempotent enough for beat: a redelivered run mails the same summary again; the task is
acks_late so a crash does not lose the week's report.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import Task, current_app, shared_task

from dms.services.team_report import send_weekly_reports
from ocr_worker.celery_app import services_for

log = logging.getLogger(__name__)


@shared_task(bind=True, name="dms.weekly_team_reports", acks_late=True)
def weekly_team_reports(self: Task) -> dict[str, int]:
    app = self.app if self.app is not None else current_app
    result = send_weekly_reports(services_for(app), datetime.now(UTC))
    log.info("weekly team reports: %s", result)
    return {"teams": result.teams, "sent": result.sent}
