"""Gap reports and management statistics in the UI (tables with filters, a bar chart of
completeness per group) with CSV, XLSX and PDF downloads. Everything is computed by
``dms.services.gap_report`` and ``dms.services.statistics``; this module only adapts."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from dms.domain.access import Action
from dms.domain.facts import FIELD_NAMES_ZH
from dms.domain.lifecycle import GATE_NAMES_ZH
from dms.services.gap_report import STATUS_NAMES_ZH, GapFilter, gap_rows, named_rows
from dms.services.localized_reports import gap_csv, gap_pdf, gap_xlsx
from dms.services.missing_facts import count_missing_facts, documents_missing_facts
from dms.services.missing_facts_csv import missing_facts_csv
from dms.services.statistics import (GROUPS, completeness, overdue_by_team, return_rates,
                                     timeliness)
from dms.domain.personal_data import mask_text, mask_value
from dms.web.access import allowed_teams, requires, sees_personal_data, services
from dms.web.i18n import get_locale
from dms.web.params import CODE, flag_arg, int_arg, text_arg

bp = Blueprint("reports", __name__, url_prefix="/reports")
SCREEN_ROWS = 500  # the page shows this many gap rows; downloads have them all
CHART_WIDTH = 360


def _teams() -> tuple[str, ...] | None:
    """The teams shown: the one asked for (if the user may see it) within the user's."""
    mine = allowed_teams(Action.REPORT_READ)
    asked = text_arg("team", max_chars=32, what="a team code")
    if asked is not None:
        if mine is not None and asked not in mine:
            abort(403, f"team: {asked} is not a team whose reports you may read")
        return (asked,)
    return tuple(mine) if mine is not None else None


def _filter() -> GapFilter:
    """The report's filter from the query string; a malformed value is a 400 naming it."""
    return GapFilter(customer_no=text_arg("customer", max_chars=32, what="a customer number"),
                     teams=_teams(),
                     business_type=text_arg("business_type", max_chars=32, shape=CODE,
                                            what="a business type code"),
                     only_gaps=flag_arg("only_gaps"))


def bars(rows: list[Any]) -> list[dict[str, Any]]:
    """Inline-SVG bar geometry of completeness rates (server-side, no JavaScript)."""
    return [{"key": r.key or "—", "rate": r.rate, "y": i * 22,
             "w": round(r.rate * CHART_WIDTH, 1)} for i, r in enumerate(rows)]


@bp.route("/")
@requires(Action.REPORT_READ)
def overview() -> Any:
    svc = services()
    now = datetime.now(UTC)
    group_by = request.args.get("group_by", "team")
    if group_by not in GROUPS:
        abort(400, f"group_by is one of {', '.join(GROUPS)}")
    days = int_arg("older_than", 7, lo=1, hi=36_500)  # up to a hundred years
    f = _filter()
    with svc.sessions() as s:
        comp = completeness(s, svc.checklist, svc.settings.classify_review_below,
                            group_by=group_by, now=now, older_than_days=days, f=f)
        timely = timeliness(s, svc.checklist, now=now, teams=f.teams)
        returns = return_rates(s, teams=f.teams)
        overdue = overdue_by_team(s, now=now, teams=f.teams)
    return render_template("reports.html", comp=comp, bars=bars(comp), chart_width=CHART_WIDTH,
                           timely=timely, returns=returns, overdue=overdue, group_by=group_by,
                           groups=GROUPS, older_than=days, gate_names=GATE_NAMES_ZH,
                           business_types=svc.checklist.business_types, args=request.args)


@bp.route("/gaps")
@requires(Action.REPORT_READ)
def gaps() -> Any:
    svc = services()
    f = _filter()
    fmt = request.args.get("format", "html")
    locale = get_locale()  # exports in the reader's language, like the pages
    unmasked = sees_personal_data()  # exports mask personal data like the screens
    below = svc.settings.classify_review_below
    if fmt == "csv":
        def generate() -> Any:
            with svc.sessions() as s:
                for chunk in gap_csv(s, svc.checklist, below, f, locale):
                    yield chunk if unmasked else mask_text(chunk)
        return Response(stream_with_context(generate()), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=gaps.csv"})
    if fmt in ("xlsx", "pdf"):
        buf = io.BytesIO()
        with svc.sessions() as s:
            rows = named_rows(gap_rows(s, svc.checklist, below, f), svc.checklist, locale)
            rows = rows if unmasked else (mask_value(r) for r in rows)
            if fmt == "xlsx":
                gap_xlsx(buf, rows, locale)
                mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                gap_pdf(buf, rows, locale)
                mime = "application/pdf"
        return Response(buf.getvalue(), mimetype=mime,
                        headers={"Content-Disposition": f"attachment; filename=gaps.{fmt}"})
    if fmt != "html":
        abort(400, "format is one of html, csv, xlsx, pdf")
    shown: list[dict[str, Any]] = []
    with svc.sessions() as s:
        for r in gap_rows(s, svc.checklist, below, f):
            shown.append(r if unmasked else mask_value(r))
            if len(shown) > SCREEN_ROWS:
                break
        # Present but not usable: documents lacking a fact their type requires (issue 20).
        lacking = [r if unmasked else mask_value(r) for r in
                   documents_missing_facts(s, svc.checklist, f, limit=SCREEN_ROWS)]
        lacking_total = count_missing_facts(s, svc.checklist, f)
    # The section's download carries the page's filters (and language), not its format.
    lacking_csv_args = {k: v for k, v in request.args.items() if k != "format"}
    return render_template("reports_gaps.html", rows=shown[:SCREEN_ROWS],
                           more=len(shown) > SCREEN_ROWS, status_names=STATUS_NAMES_ZH,
                           business_types=svc.checklist.business_types, args=request.args,
                           lacking=lacking, lacking_total=lacking_total,
                           lacking_csv_args=lacking_csv_args, field_names=FIELD_NAMES_ZH)


@bp.route("/gaps/missing-facts.csv")
@requires(Action.REPORT_READ)
def missing_facts_download() -> Any:
    """Every document of the gap report's "缺少必备信息的文档" section (the page shows the
    newest 500): the same filter, teams and masking as the page, newest first, streamed."""
    svc = services()
    f = _filter()
    locale = get_locale()  # read before streaming, like the gap report's downloads
    unmasked = sees_personal_data()

    def generate() -> Any:
        with svc.sessions() as s:
            rows = documents_missing_facts(s, svc.checklist, f)
            yield from missing_facts_csv(rows if unmasked else (mask_value(r) for r in rows),
                                         svc.checklist, locale)
    return Response(stream_with_context(generate()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=missing-facts.csv"})
