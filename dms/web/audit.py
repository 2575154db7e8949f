"""The audit log for administrators: who read or changed what, filtered by user,
customer, action and period, page by page, with a CSV download (issue 17).

Registering this blueprint also installs the hook that records reads of personal data
(``dms.web.audit_reads``). Only administrators see the log; the access policy of issue 16
will take over the check.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlalchemy import select

from dms.db.models import AuditEvent
from dms.domain.access import Action
from dms.domain.audit import ACTION_NAMES_ZH
from dms.errors import InvalidInputError
from dms.services import audit_log
from dms.services.lifecycle import calendar_for
from dms.web.audit_reads import record_reads
from dms.web.access import requires, services
from dms.web.i18n import get_locale

bp = Blueprint("audit", __name__)
bp.after_app_request(record_reads)
PAGE_SIZE = 50



def _zone() -> ZoneInfo:
    return calendar_for(services().settings).tz


def _int(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be a whole number") from None


@bp.route("/admin/audit")
@requires(Action.AUDIT_READ)
def page() -> Any:
    tz = _zone()
    f = audit_log.filter_from(request.args, tz)
    number, size = _int("page", 1), _int("size", PAGE_SIZE)
    with services().sessions() as s:
        rows, total = audit_log.page_of(s, f, number, size)
        actions = sorted({*ACTION_NAMES_ZH, *s.scalars(select(AuditEvent.action).distinct())})
        shown = [audit_log.as_row(ev, tz, get_locale()) for ev in rows]
    return render_template("admin_audit.html", rows=shown, total=total, page=number,
                           size=size, pages=max(1, -(-total // size)), actions=actions,
                           action_names=ACTION_NAMES_ZH, args=request.args, tz=tz.key)


@bp.route("/admin/audit.csv")
@requires(Action.AUDIT_READ)
def export() -> Response:
    tz = _zone()
    f = audit_log.filter_from(request.args, tz)
    svc = services()
    locale = get_locale()  # read before streaming: the generator runs outside the request

    def generate() -> Any:
        with svc.sessions() as s:
            yield from audit_log.csv_chunks(s, f, tz, locale)

    name = f"audit-{datetime.now(UTC).astimezone(tz):%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(generate()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
