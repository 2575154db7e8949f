"""``dms audit verify|list|export`` and ``dms db harden-audit``: the audit log from the
shell (registered in dms.cli). Exporting or listing the log is itself audited."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dms.cli_context import CliContext, pass_ctx
from dms.db import audit
from dms.domain.audit import ReadAction
from dms.errors import InvalidInputError
from dms.services import audit_log
from dms.services.lifecycle import calendar_for


@click.group("audit", help="The audit log: verify its hash chain, list or export entries.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Walk the hash chain; exit 1 naming the first entry that "
                                    "was edited, deleted, reordered or inserted.")
@pass_ctx
def verify(c: CliContext) -> None:
    with c.services.sessions() as s:
        v = audit.verify(s)
    if v.broken is not None:
        click.echo(f"audit log BROKEN at entry #{v.broken.seq} ({v.broken.kind}): "
                   f"{v.broken.message}", err=True)
        click.echo(f"{v.checked} entries before it are intact", err=True)
        sys.exit(1)
    # The head hash, noted somewhere else (a ticket, a printout), also proves that the
    # whole chain was not rewritten later.
    click.echo(f"audit log intact: {v.checked} entries, head #{v.head.seq} {v.head.hash}")


_since = click.option("--since", default="", help="from this date or date-time (the "
                                                   "deployment's zone unless an offset is given)")
_until = click.option("--until", default="", help="up to this date (included) or date-time")
_user = click.option("--user", default="", help="only this user (or token:…, cli:…)")
_customer = click.option("--customer", "customer_no", default="", help="only this 户号")
_action = click.option("--action", default="", help="only this action, e.g. original_download")


def _filter(c: CliContext, since: str, until: str, user: str, customer_no: str,
            action: str) -> audit_log.AuditFilter:
    tz = calendar_for(c.settings).tz
    return audit_log.filter_from({"from": since, "to": until, "user": user,
                                  "customer": customer_no, "action": action}, tz)


def _record(c: CliContext, action: str, f: audit_log.AuditFilter, fmt: str) -> None:
    data = {k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in vars(f).items() if v and k != "customer_no"}
    audit_log.record_cli_read(c.services.sessions, action, "audit_log", fmt,
                              customer_no=f.customer_no or "", data=data)


@audit_group.command("list", help="The newest entries, one per line (--json for scripts).")
@_since
@_until
@_user
@_customer
@_action
@click.option("--limit", type=int, default=50, show_default=True,
              help=f"at most {audit_log.MAX_PAGE_SIZE}")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_cmd(c: CliContext, since: str, until: str, user: str, customer_no: str, action: str,
             limit: int, as_json: bool) -> None:
    f = _filter(c, since, until, user, customer_no, action)
    tz = calendar_for(c.settings).tz
    with c.services.sessions() as s:
        rows, total = audit_log.page_of(s, f, 1, limit)
        shown = [audit_log.as_row(ev, tz) for ev in rows]
    _record(c, ReadAction.AUDIT_VIEW, f, "list")
    for r in shown:
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False))
        else:
            click.echo(f"#{r['seq']} {r['at']} {r['actor']} {r['action']} {r['entity']} "
                       f"{r['entity_id']} {r['customer_no']} {r['remote_addr']} {r['detail']}")
    if not as_json:
        click.echo(f"{len(shown)} of {total} entries", err=True)


@audit_group.command("export", help="Entries in a period as CSV (UTF-8 with BOM, headings "
                                    "in the deployment's language, times in its zone).")
@_since
@_until
@_user
@_customer
@_action
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: standard output)")
@pass_ctx
def export(c: CliContext, since: str, until: str, user: str, customer_no: str, action: str,
           fmt: str, output: Path | None) -> None:
    f = _filter(c, since, until, user, customer_no, action)
    tz = calendar_for(c.settings).tz
    _record(c, ReadAction.AUDIT_EXPORT, f, fmt)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with c.services.sessions() as s:
            for chunk in audit_log.csv_chunks(s, f, tz, c.settings.default_locale):
                out.write(chunk)
    finally:
        if output:
            out.close()


@click.command("harden-audit", help="PostgreSQL: revoke UPDATE, DELETE and TRUNCATE on the "
                                    "audit log from the application's database role. Run as "
                                    "the tables' owner after `dms db upgrade`.")
@click.option("--role", required=True, help="the role the web app and workers log in as")
@pass_ctx
def harden_audit(c: CliContext, role: str) -> None:
    if not role.strip():
        raise InvalidInputError("role: name the application's database role")
    with c.services.engine.begin() as conn:
        for stmt in audit.harden(conn, role.strip()):
            click.echo(stmt)
    click.echo(f"role {role} can no longer change or remove audit entries")
