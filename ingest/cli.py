"""``dms ingest ROOT``: the lead adds ``ingest_command`` to the ``dms`` click group.

The group's context object carries ``.services`` and ``.dispatcher``; DmsErrors
propagate to the group, which maps them to exit codes (a missing ROOT exits 2).
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from ingest.batch import ingest_folder
from ingest.report import BatchReport, StderrProgress, batches_text, recent_batches
from ingest.watch import watch_folder
from ingest.writer import interrupt_orphaned_batches


@click.command("ingest")
@click.argument("root", type=click.Path(path_type=Path), required=False)
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Parallel upload threads.")
@click.option("--watch", "watch", is_flag=True, help="Keep polling ROOT for new folders.")
@click.option("--settle-seconds", default=10.0, show_default=True, type=float,
              help="--watch: a file is taken once unchanged for this long.")
@click.option("--poll-seconds", default=2.0, show_default=True, type=float,
              help="--watch: time between scans of ROOT.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--locale", default=None, type=click.Choice(["zh_CN", "en"]),
              help="Language of the text summary (default: settings.default_locale).")
@click.option("--batches", "list_batches", is_flag=True,
              help="List the latest batches instead (marks those of killed runs interrupted).")
def ingest_command(root: Path | None, workers: int, watch: bool, settle_seconds: float,
                   poll_seconds: float, as_json: bool, locale: str | None,
                   list_batches: bool) -> None:
    """Ingest a scanner station's folder: ROOT/<customer_no>[_name]/[<business_no>/]<file>."""
    obj = click.get_current_context().obj
    services = obj.services
    loc = locale or services.settings.default_locale
    if list_batches:
        interrupt_orphaned_batches(services, datetime.now(UTC))
        with services.sessions() as s:
            rows = recent_batches(s)
        click.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2)
                   if as_json else batches_text(rows, loc), nl=as_json)
        return
    if root is None:
        raise click.UsageError("give ROOT, the scanner folder (or --batches to list batches)")
    dispatcher = obj.dispatcher
    quiet = as_json or not sys.stderr.isatty()
    progress = None if quiet else StderrProgress()

    def show(report: BatchReport) -> None:
        click.echo(report.to_json() if as_json else report.summary_text(loc))

    if watch:
        click.echo(f"watching {root} (settle {settle_seconds:g}s); Ctrl-C stops", err=True)
        try:
            watch_folder(services, root, dispatcher=dispatcher, workers=workers,
                         settle_seconds=settle_seconds, poll_seconds=poll_seconds,
                         progress=progress, on_batch=show)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        return
    show(ingest_folder(services, root, dispatcher=dispatcher, workers=workers,
                       progress=progress))
