"""The weekly team report (Celery beat, ``dms.weekly_team_reports``, Mondays).

Idempotent enough for beat: a redelivered run mails the same summary again; the task is
acks_late so a crash does not lose the week's report.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from dms.services.team_report import send_weekly_reports
from dms.worker.task import TaskContext, dms_task

log = logging.getLogger(__name__)


@dms_task("dms.weekly_team_reports")
def weekly_team_reports(ctx: TaskContext) -> dict[str, int]:
    result = send_weekly_reports(ctx.services, datetime.now(UTC))
    log.info("weekly team reports: %s", result)
    return {"teams": result.teams, "sent": result.sent}
