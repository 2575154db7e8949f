"""``dms reconcile``: what the marketing system and the archive disagree on (the same
lists as the 事件对账 page); registered on the ``dms`` group in dms.cli."""
from __future__ import annotations

import json

import click

from dms.cli_context import CliContext, pass_ctx
from dms.domain.localtime import show, zone
from dms.services.reconcile import reconciliation

SECTIONS = (("rejected", "被拒绝的事件"), ("unmapped", "未关联的营销系统经办人"),
            ("untyped", "没有业务类型的业务"), ("without_events", "已扫描但未收到事件的客户"))


@click.command("reconcile", help="List businesses without a type, scanned customers no "
                                 "event has named, rejected events and unmapped handlers.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def reconcile_command(c: CliContext, as_json: bool) -> None:
    with c.services.sessions() as s:
        rec = reconciliation(s)
    if as_json:
        click.echo(json.dumps(rec.as_dict(), ensure_ascii=False, default=str))
        return
    tz = zone(c.services.settings.time_zone)
    for key, title in SECTIONS:
        rows = getattr(rec, key)
        click.echo(f"{title}: {len(rows)}")
        for r in rows:
            if key == "rejected":
                line = (f"#{r['id']} {show(r['received_at'], tz)} {r['system']} "
                        f"{r['event_id']} {r['business_no']}: {r['error']}")
            elif key == "unmapped":
                line = f"{r['system']} {r['external_id']} ({show(r['first_seen_at'], tz)})"
            elif key == "untyped":
                line = f"{r['business_no']} {r['customer_no']} {r['name']} ({r['documents']})"
            else:
                line = (f"{r['customer_no']} {r['name']} ({r['documents']}, "
                        f"{show(r['first_scan'], tz)})")
            click.echo("  " + line)
