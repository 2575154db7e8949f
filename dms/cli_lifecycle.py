"""``dms events …`` and ``dms reminders …``: registered on the ``dms`` group in dms.cli."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from dms.cli_context import CliContext, pass_ctx
from dms.errors import InvalidInputError


@click.group("events", help="Business events from the marketing system (营销系统).")
def events_group() -> None:
    pass


@events_group.command("import", help="Back-fill history from a CSV or JSON file of events "
                                     "(fields: event_id, customer_no, business_no, "
                                     "business_type, step, completed_at, handler, team).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--system", default="import", show_default=True,
              help="Name the events are recorded under (idempotency is per system).")
@pass_ctx
def events_import(c: CliContext, file: Path, system: str) -> None:
    from dms.services.events import import_events

    report = import_events(c.services, file, system=system)
    click.echo(f"accepted {report.accepted}, duplicates {report.duplicates}, "
               f"rejected {report.rejected}")
    for line in report.errors[:50]:
        click.echo(f"  rejected {line}", err=True)


@events_group.command("token", help="Create (or replace) the API token of a system; "
                                    "it is printed once.")
@click.argument("system")
@pass_ctx
def events_token(c: CliContext, system: str) -> None:
    from dms.services.events import create_system_token

    click.echo(create_system_token(c.services, system))


@click.group("reminders", help="Reminders and automatic urging (催办).")
def reminders_group() -> None:
    pass


@reminders_group.command("sweep", help="Urge overdue archive work now (what beat runs).")
@click.option("--now", "now_text", default=None, help="ISO date-time to sweep as of (testing, "
                                                     "catching up); default: the clock.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def reminders_sweep(c: CliContext, now_text: str | None, as_json: bool) -> None:
    from dms.services.reminders import run_sweep

    now = datetime.now(UTC)
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise InvalidInputError(f"--now {now_text!r} is not an ISO date-time") from None
        if now.tzinfo is None:
            raise InvalidInputError("--now needs a UTC offset, e.g. 2026-03-04T10:00+08:00")
    report = run_sweep(c.services, now)
    if as_json:
        click.echo(json.dumps(report.__dict__))
    else:
        click.echo(f"urges {report.urges} (escalations {report.escalations}, undeliverable "
                   f"{report.undeliverable}), notices "
                   f"{report.notices}, tasks closed {report.tasks_closed}, "
                   f"contracts {report.contracts}")
