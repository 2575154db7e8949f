"""``dms up``: the embedded system on one machine, with sample data, in one command.

Runs the schema migration, creates demo users, generates and ingests the sample
scanner folder, starts a real Celery worker process on the embedded broker and
serves the web UI. Ctrl-C stops everything.
"""
from __future__ import annotations

import json
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr

from dms.cli_context import CliContext
from dms.db.session import session_scope
from dms.cli_scale import reindex_with_progress
from dms.errors import DmsError, SearchIndexUnreadable
from dms.services.container import Services
from dms.services.events import receive_event
from dms.services.users import create_user
from dms.web.security import ensure_secret_key_file, resolve_secret_key
from dms.web.server import run_development, run_production
from search.registry import discard_embedded_index

DEMO_USERS = (
    ("admin", "admin", "系统管理员", None),
    ("archivist", "archivist", "档案管理员", None),
    ("handler", "handler", "营业班经办人", "YYB"),
    ("collector", "collector", "营业班收集员", "YYB"),
    ("dispute", "dispute", "纠纷处理专员", None),
    ("manager", "manager", "营销部", None),
)


SAMPLE_SYSTEM = "营销系统（示例）"


def announce_sample_businesses(services: Services, folder: Path) -> int:
    """The sample's businesses as the marketing system would announce them before their
    paper is scanned: an acceptance event each, handled by the demo handler's team (YYB).
    Without it every sample business has no team, and the demo handler, who sees only
    their team's archive, finds nothing. Events already received are duplicates (a rerun)."""
    truth = folder / ".truth" / "ground_truth.json"
    if not truth.is_file():
        return 0
    data = json.loads(truth.read_text(encoding="utf-8"))
    names = {c["customer_no"]: c.get("account_name") for c in data.get("customers", [])}
    first: dict[str, dict[str, Any]] = {}
    for f in data.get("files", []):
        first.setdefault(f["business_no"], f)
    # Three days before the sample was generated: the same on a rerun (an event sent again
    # must carry the same content), and old enough that the next step's clock is running.
    generated = datetime.fromtimestamp(int(truth.stat().st_mtime), UTC)
    accepted_at = (generated - timedelta(days=3)).isoformat()
    announced = 0
    for business_no, f in sorted(first.items()):
        payload = {"event_id": f"sample-{business_no}-accept", "customer_no": f["customer_no"],
                   "business_no": business_no, "business_type": f["business_type"],
                   "step": "accept", "completed_at": accepted_at, "handler": "handler",
                   "team": "YYB", "customer_name": names.get(f["customer_no"])}
        try:
            receive_event(services, SAMPLE_SYSTEM, payload, channel="import")
            announced += 1
        except DmsError as exc:  # kept among rejected events; the demo goes on
            click.echo(f"示例事件被拒绝 / sample event rejected: {exc}", err=True)
    return announced


def rebuild_unreadable_index(services: Services) -> int | None:
    """An embedded index written by an older dms (another schema) cannot be opened: rebuild
    it from the database before serving, as ``dms reindex`` would, instead of starting with
    every search answering 503. Returns the pages indexed, or None if it opened as it was."""
    try:
        services.index  # noqa: B018
        return None
    except SearchIndexUnreadable as exc:
        click.echo(f"{exc.message}", err=True)
    discard_embedded_index(services.settings)
    with session_scope(services.sessions) as s:
        return reindex_with_progress(s, services.index, 0)


def demo_password(data_dir: Path) -> str:
    """One random demo password per installation, kept so it can be printed again."""
    f = data_dir / "demo-password.txt"
    if not f.exists():
        f.write_text(secrets.token_urlsafe(12), encoding="utf-8")  # 16 chars, policy-proof
        f.chmod(0o600)
    return f.read_text(encoding="utf-8").strip()


@click.command(help="Start the whole embedded system with sample data (the README's command).")
@click.option("--sample/--no-sample", default=True, help="generate and ingest sample scans")
@click.option("--customers", type=int, default=6)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn")
@click.pass_obj
def up(c: CliContext, sample: bool, customers: int, dev: bool) -> None:
    from dms.db.migrate import upgrade
    from dms.doctor import require_free_port, require_system
    from ingest.batch import ingest_folder

    settings = c.settings
    services, dispatcher = c.services, c.dispatcher
    require_system(settings)
    require_free_port(settings.host, settings.port)
    settings.ensure_dirs()
    if not settings.secret_key.get_secret_value():
        # The embedded default: one key per installation, kept in the data directory, so
        # sessions survive a restart and nobody else's copy of dms shares it.
        key_file = ensure_secret_key_file(settings)
        settings.secret_key = SecretStr(key_file.read_text(encoding="utf-8").strip())
    resolve_secret_key(settings)  # a weak DMS_SECRET_KEY stops here, before any work
    upgrade(settings.database_url)
    rebuilt = rebuild_unreadable_index(services)
    if rebuilt is not None:
        click.echo(f"搜索索引已按新版本重建 / search index rebuilt for this version: "
                   f"{rebuilt} pages")
    password = demo_password(settings.data_dir)
    with session_scope(services.sessions) as s:
        for username, role, name, team in DEMO_USERS:
            create_user(s, username, password, role, display_name=name, team_code=team)

    worker = subprocess.Popen([sys.executable, "-m", "dms", "worker"])
    try:
        if sample:
            folder = settings.data_dir / "sample-scans"
            if not folder.exists():
                from dms.sample_data import generate_corpus

                click.echo(f"generating sample scans in {folder} …")
                generate_corpus(folder, customers=customers, seed=1)
            announced = announce_sample_businesses(services, folder)
            click.echo(f"营销系统（示例）已受理 {announced} 笔业务 / "
                       f"{announced} sample businesses announced by the marketing system")
            report = ingest_folder(services, folder, dispatcher=dispatcher)
            click.echo(report.summary_text())
        click.echo("\n" + "=" * 60)
        click.echo(f"  dms is running: http://{settings.host}:{settings.port}/")
        click.echo(f"  login: admin / {password}   (also archivist, handler, collector,"
                   " dispute, manager)")
        click.echo("  OCR runs in the background; documents appear in search as they finish.")
        click.echo("=" * 60 + "\n")
        if dev:
            run_development(settings, settings.host, settings.port, dispatcher=dispatcher,
                            services=services)
        else:
            run_production(settings, settings.host, settings.port)
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
