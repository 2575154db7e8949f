"""``dms report …``: gap reports for scripts and the weekly team report; registered on the
``dms`` group in dms.cli."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from dms.cli_context import CliContext, pass_ctx
from dms.domain.audit import ReadAction
from dms.services.audit_log import record_cli_read
from dms.errors import InvalidInputError


@click.group("report", help="Checklist gap reports and management statistics.")
def report_group() -> None:
    pass


def _json_default(v: Any) -> str:
    if isinstance(v, datetime):
        return v.isoformat()
    raise TypeError(type(v))


@report_group.command("gaps", help="The checklist gap report (缺件报告) of one customer, "
                                   "one team or everyone.")
@click.option("--customer", "customer_no", help="户号 of one customer")
@click.option("--team", help="code of one team")
@click.option("--all", "everyone", is_flag=True, help="every customer")
@click.option("--only-gaps", is_flag=True, help="only missing and unconfirmed types")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: standard output; required for xlsx)")
@click.option("--rebuild", is_flag=True,
              help="recompute the maintained gap table from all rows first (after an "
                   "upgrade, a checklist or threshold change, or bulk SQL loads)")
@pass_ctx
def gaps(c: CliContext, customer_no: str | None, team: str | None, everyone: bool,
         only_gaps: bool, fmt: str, output: Path | None, rebuild: bool) -> None:
    from dms.services.gap_report import GapFilter, gap_rows, named_rows
    from dms.services.localized_reports import gap_csv, gap_xlsx

    chosen = sum((customer_no is not None, team is not None, everyone))
    if rebuild:
        from dms.services import gap_table

        with c.services.sessions() as s:
            n = gap_table.rebuild(s, c.services.checklist,
                                  c.services.settings.classify_review_below)
            s.commit()
        click.echo(f"gap table rebuilt: {n} (business, type) pairs", err=True)
        if not chosen:
            return
    if chosen != 1:
        raise InvalidInputError("choose exactly one of --customer N, --team K, --all")
    if fmt == "xlsx" and output is None:
        raise InvalidInputError("xlsx needs --output FILE")
    f = GapFilter(customer_no=customer_no, team=team, only_gaps=only_gaps)
    svc = c.services
    record_cli_read(svc.sessions, ReadAction.REPORT_EXPORT, "gap_report", fmt,
                    customer_no=customer_no or "",
                    data={k: v for k, v in (("team", team), ("all", everyone),
                                            ("only_gaps", only_gaps),
                                            ("output", str(output or ""))) if v})
    locale = svc.settings.default_locale  # headings and statuses in the deployment's language
    with svc.sessions() as s:
        below = svc.settings.classify_review_below
        rows = gap_rows(s, svc.checklist, below, f)
        if fmt == "xlsx":
            assert output is not None
            gap_xlsx(output, named_rows(rows, svc.checklist, locale), locale)
            return
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "csv":  # formatted by the database, the same as the UI's download
                for chunk in gap_csv(s, svc.checklist, below, f, locale):
                    out.write(chunk)
            else:  # JSON lines: one object per row, streamable by scripts
                for r in rows:
                    out.write(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n")
        finally:
            if output:
                out.close()


@report_group.command("weekly", help="Send each team leader the team's weekly report now "
                                     "(what the beat schedule runs on Mondays).")
@pass_ctx
def weekly(c: CliContext) -> None:
    from dms.services.team_report import send_weekly_reports

    r = send_weekly_reports(c.services, datetime.now(UTC))
    click.echo(f"teams {r.teams}, reports sent {r.sent}")
