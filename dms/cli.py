"""The ``dms`` command. Errors are translated into messages and exit codes here only."""
from __future__ import annotations

import json
import logging
import logging.config
import sys
from pathlib import Path

import click
from sqlalchemy.exc import InterfaceError, OperationalError

from dms import log_redaction
from dms.classify.cli import classify
from dms.cli_audit import audit_group, harden_audit
from dms.cli_context import CliContext, pass_ctx
from dms.cli_lifecycle import events_group, reminders_group
from dms.cli_ops import backup_command, db_current, db_downgrade, fsck_command, restore_command
from dms.cli_physical import labels_group, rooms
from dms.cli_reconcile import reconcile_command
from dms.cli_reports import report_group
from dms.cli_scale import init_command
from dms.cli_tokens import tokens_group
from dms.errors import DatabaseUnavailableError, DmsError
from dms.launcher import up
from dms.settings import Settings, load_settings
from ingest.cli import ingest_command


def configure_logging(settings: Settings) -> None:
    if settings.log_config:
        import yaml

        logging.config.dictConfig(yaml.safe_load(settings.log_config.read_text(encoding="utf-8")))
    else:
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install()  # no ID or phone number in any log line, the access log's too


@click.group(help="dms: the customer-archive system. Settings come from DMS_* variables "
                  "or a .env file; see README 'Configuration'.")
@click.version_option(package_name="dms")
@click.pass_context
def cli(ctx: click.Context) -> None:
    settings = load_settings()
    configure_logging(settings)
    ctx.obj = CliContext(settings)


@cli.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Create or migrate the database schema to the newest version.")
@pass_ctx
def db_upgrade(c: CliContext) -> None:
    from dms.db.migrate import upgrade

    c.settings.ensure_dirs()
    upgrade(c.settings.database_url)
    click.echo(f"database is up to date: {c.settings.database_url}")
    # A database that predates the gap table, or whose checklist changed, would compute
    # every gap report live (slow at scale) until rebuilt: rebuild it here, once.
    from dms.services import gap_table

    with c.services.sessions() as s:
        below = c.settings.classify_review_below
        if not gap_table.is_fresh(s, c.services.checklist, below):
            n = gap_table.rebuild(s, c.services.checklist, below)
            s.commit()
            click.echo(f"gap table rebuilt: {n} (business, type) pairs")


@cli.command("serve", help="Serve the web UI and API with gunicorn (--dev: Flask's "
                            "development server, for development only).")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=2, help="gunicorn worker processes")
@click.option("--threads", type=int, default=4, help="threads per gunicorn worker")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn")
@pass_ctx
def serve(c: CliContext, host: str | None, port: int | None, workers: int, threads: int,
          dev: bool) -> None:
    from dms.doctor import require_free_port
    from dms.web.server import run_development, run_production

    host, port = host or c.settings.host, port or c.settings.port
    require_free_port(host, port)
    click.echo(f"serving on http://{host}:{port}/")
    if dev:
        run_development(c.settings, host, port)
    else:
        run_production(c.settings, host, port, workers=workers, threads=threads)


@cli.command("worker", help="Run a Celery OCR worker (one process per core by default).")
@click.option("--concurrency", "-c", type=int, default=0)
@click.option("--beat", is_flag=True, help="also run the periodic scheduler in this process")
@click.option("--queues", "-Q", default=None,
              help="queues to serve, the first asked first; default documents,pages,default,dms "
                   "(e.g. -Q pages for a page-only worker)")
@click.option("--healthcheck", is_flag=True,
              help="exit 0 if the worker on this host answers a ping over the broker, else 1")
@pass_ctx
def worker(c: CliContext, concurrency: int, beat: bool, queues: str | None,
           healthcheck: bool) -> None:
    from dms.doctor import require_system
    from dms.worker.celery_app import make_celery
    from dms.worker.health import worker_answers, worker_node
    from dms.worker.routing import WORKER_QUEUES, parse_queues

    queue_names = parse_queues(queues or ",".join(WORKER_QUEUES))
    if healthcheck:
        ok = worker_answers(make_celery(c.settings))
        click.echo(f"{worker_node()}: {'ok' if ok else 'no answer'}")
        sys.exit(0 if ok else 1)
    require_system(c.settings)
    app = make_celery(c.settings)
    argv = ["worker", "--loglevel", c.settings.log_level, "-Q", ",".join(queue_names)]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if beat:
        argv += ["--beat", "--schedule", str(c.settings.data_dir / "celerybeat-schedule")]
    app.worker_main(argv)


@cli.command("beat", help="Run the periodic scheduler (one per deployment).")
@click.option("--healthcheck", is_flag=True,
              help="exit 0 if beat has written its schedule file in the last 15 minutes, else 1")
@pass_ctx
def beat(c: CliContext, healthcheck: bool) -> None:
    from dms.worker.celery_app import make_celery
    from dms.worker.health import beat_alive, beat_schedule_path

    if healthcheck:
        ok = beat_alive(c.settings.data_dir)
        click.echo(f"beat: {'ok' if ok else 'no recent schedule file'}")
        sys.exit(0 if ok else 1)
    app = make_celery(c.settings)
    app.Beat(schedule=str(beat_schedule_path(c.settings.data_dir)),
             loglevel=c.settings.log_level).run()


@cli.command("search", help="Search the archive, e.g. dms search 合同 --json")
@click.argument("query", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--size", type=int, default=10)
@pass_ctx
def search_cmd(c: CliContext, query: tuple[str, ...], as_json: bool, size: int) -> None:
    from search import SearchQuery

    from dms.domain.audit import ReadAction
    from dms.domain.personal_data import mask_text
    from dms.services.audit_log import record_cli_read

    index = c.services.index
    index.refresh()
    r = index.search(SearchQuery(text=" ".join(query), size=size))
    record_cli_read(c.services.sessions, ReadAction.SEARCH, "search", "",
                    data={"q": mask_text(" ".join(query))})
    if as_json:
        click.echo(json.dumps({"total": r.total, "hits": [
            {"document_id": h.document_id, "page_no": h.page_no, "score": h.score,
             "snippet": h.snippet, "fields": h.fields} for h in r.hits]}, ensure_ascii=False))
        return
    click.echo(f"{r.total} hits ({r.took_ms:.0f} ms)")
    for h in r.hits:
        click.echo(f"  doc {h.document_id} p.{h.page_no}  {h.fields.get('customer_no', '')}  "
                   f"{h.snippet.replace('<mark>', '[').replace('</mark>', ']')}")


@cli.command("reindex", help="Rebuild the search index from the database.")
@click.option("--after-id", type=int, default=0,
              help="resume an interrupted run after this document id (does not clear)")
@pass_ctx
def reindex(c: CliContext, after_id: int) -> None:
    from dms.cli_scale import reindex_with_progress
    from dms.db.session import session_scope
    from dms.errors import SearchIndexUnreadable
    from search.registry import discard_embedded_index

    try:
        index = c.services.index
    except SearchIndexUnreadable as e:
        if after_id:  # resuming into an index that cannot be opened: nothing to resume
            raise
        click.echo(f"{e.message}\n{discard_embedded_index(c.services.settings)} deleted; "
                   "rebuilding it from the database", err=True)
        index = c.services.index
    with session_scope(c.services.sessions) as s:
        n = reindex_with_progress(s, index, after_id)
    click.echo(f"indexed {n} pages")


@cli.group(help="Documents.")
def documents() -> None:
    pass


@documents.command("delete", help="Delete a document (rows, index entries, derived files; "
                                  "the original scan stays in the object store).")
@click.argument("document_id", type=int)
@click.option("--reason", default="", help="recorded in the audit log")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@pass_ctx
def documents_delete(c: CliContext, document_id: int, reason: str, yes: bool) -> None:
    from dms.db.session import session_scope
    from dms.services.document_deletion import delete_document

    if not yes:
        click.confirm(f"delete document {document_id}?", abort=True)
    with session_scope(c.services.sessions) as s:
        delete_document(s, c.services, document_id, actor="cli", reason=reason)
    click.echo(f"document {document_id} deleted")


@cli.command("ocr", help="Re-run OCR (--reprocess), re-queue lost work (--resume), or show "
                         "the backlog and when each batch will be read (--status).")
@click.option("--reprocess", is_flag=True)
@click.option("--resume", is_flag=True)
@click.option("--status", "show_status", is_flag=True)
@click.option("--minutes", type=int, default=15, show_default=True,
              help="--status: the rate is measured over this many minutes")
@click.option("--json", "as_json", is_flag=True, help="--status as JSON")
@click.option("--document", "document_ids", type=int, multiple=True)
@click.option("--customer", "customer_no", default=None)
@click.option("--all", "all_docs", is_flag=True)
@click.option("--engine", default=None,
              help="OCR engine for this reprocess run (tesseract, ppocr, ppocr5);"
                   " default: settings")
@pass_ctx
def ocr(c: CliContext, reprocess: bool, resume: bool, show_status: bool, minutes: int,
        as_json: bool, document_ids: tuple[int, ...], customer_no: str | None, all_docs: bool,
        engine: str | None) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from dms.cli_scale import reprocess_with_progress, show_ocr_status
    from dms.db.models import Customer, Document
    from dms.services import ocr_flow

    if show_status:
        show_ocr_status(c, minutes, as_json)
        return
    if resume:
        n = ocr_flow.requeue_stalled(c.services, c.dispatcher, older_than=timedelta(0))
        click.echo(f"re-queued {n} documents")
        return
    if not reprocess:
        raise click.UsageError("say --reprocess or --resume")
    with c.services.sessions() as s:
        stmt = select(Document.id)
        if customer_no:
            stmt = stmt.join(Customer).where(Customer.customer_no == customer_no)
        elif document_ids:
            stmt = stmt.where(Document.id.in_(document_ids))
        elif not all_docs:
            raise click.UsageError("name --document ID, --customer NO or --all")
        ids = list(s.scalars(stmt))
    n = reprocess_with_progress(c, ids, engine)
    click.echo(f"queued {n} documents for OCR")


@cli.command("sample-data", help="Generate sample scanned documents as a scanner station would.")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--customers", type=int, default=6)
@click.option("--seed", type=int, default=1)
def sample_data(out_dir: Path, customers: int, seed: int) -> None:
    from dms.sample_data import generate_corpus

    manifest = generate_corpus(out_dir, customers=customers, seed=seed)
    click.echo(f"wrote {len(manifest.files)} files to {out_dir}")


@cli.group(help="Users and roles.")
def users() -> None:
    pass


@users.command("create")
@click.argument("username")
@click.option("--role", required=True,
              help="handler | collector | archivist | dispute | manager | station | admin")
@click.option("--team", default=None)
@click.option("--name", default="")
@click.option("--email", default="", help="where urges and reports are mailed (DMS_NOTIFIER=smtp)")
@click.option("--team-leader", is_flag=True, help="receives the team's escalated urges")
@click.password_option()
@pass_ctx
def users_create(c: CliContext, username: str, role: str, team: str | None, name: str,
                 email: str, team_leader: bool, password: str) -> None:
    from dms.db.session import session_scope
    from dms.services.users import create_user

    with session_scope(c.services.sessions) as s:
        create_user(s, username, password, role, display_name=name, team_code=team,
                    email=email, team_leader=team_leader)
    click.echo(f"user {username} ({role}) saved")


@users.command("password", help="Set a user's password; every session of the user ends.")
@click.argument("username")
@click.password_option()
@pass_ctx
def users_password(c: CliContext, username: str, password: str) -> None:
    from dms.db.session import session_scope
    from dms.services.users import change_password

    with session_scope(c.services.sessions) as s:
        change_password(s, username, password)
    click.echo(f"password of {username} changed; its sessions are ended")


# The command modules import dms.cli_context, never this module; their commands are
# registered here.
cli.add_command(ingest_command, "ingest")
cli.add_command(up, "up")
cli.add_command(rooms, "rooms")
cli.add_command(labels_group, "labels")
cli.add_command(classify, "classify")
cli.add_command(events_group, "events")
cli.add_command(reminders_group, "reminders")
cli.add_command(report_group, "report")
cli.add_command(tokens_group, "tokens")
cli.add_command(audit_group, "audit")
db.add_command(harden_audit, "harden-audit")
db.add_command(db_downgrade, "downgrade")
db.add_command(db_current, "current")
cli.add_command(fsck_command, "fsck")
cli.add_command(backup_command, "backup")
cli.add_command(restore_command, "restore")
cli.add_command(reconcile_command, "reconcile")
cli.add_command(init_command, "init")


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DmsError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"  → {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except (OperationalError, InterfaceError) as exc:  # the database went away mid-command
        down = DatabaseUnavailableError("数据库不可用 / the database is unavailable: "
                                        f"{str(exc.orig or exc).strip()[:300]}")
        click.echo(f"error: {down.message}", err=True)
        click.echo("  → 未提交的部分可重新运行同一命令完成 / run the same command again "
                   "once it is back", err=True)
        sys.exit(down.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
