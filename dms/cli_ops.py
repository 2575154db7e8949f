"""Operations commands: ``dms fsck``, ``dms backup``, ``dms restore``, ``dms db downgrade``;
registered on the ``dms`` group in dms.cli. The work is in dms.services.fsck/backup."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from dms.cli_context import CliContext, pass_ctx


class _Progress:
    """A progress bar on a terminal (tqdm), else a line every ten seconds on stderr."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every_s = every_s
        self._last = 0.0
        self._bars: dict[str, object] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.tty:
            from tqdm import tqdm

            bar = self._bars.get(phase)
            if bar is None:
                bar = self._bars[phase] = tqdm(desc=phase, total=total or None, unit="obj",
                                               file=sys.stderr, leave=False)
            assert isinstance(bar, tqdm)
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)
            return
        now = time.monotonic()
        if now - self._last >= self.every_s or (total and done >= total):
            self._last = now
            click.echo(f"{phase}: {done}" + (f"/{total}" if total else ""), err=True)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()  # type: ignore[attr-defined]


@click.command("fsck", help="Check that every original is in the object store with its "
                            "SHA-256, every page has its image and text, searchable PDFs "
                            "exist and the index holds exactly the database's pages. "
                            "Exit code 1 when something is wrong.")
@click.option("--quick", is_flag=True, help="originals: presence and size only, no hashing")
@click.option("--repair", is_flag=True, help="re-queue OCR, re-index, mark unrecoverable "
                                             "originals (never deletes an original)")
@click.option("--sample", type=int, default=20, show_default=True,
              help="customers whose index entries are compared page by page")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def fsck_command(c: CliContext, quick: bool, repair: bool, sample: int, as_json: bool) -> None:
    from dms.services.fsck import run_fsck

    progress = _Progress()
    report = run_fsck(c.services, quick=quick, sample=sample, repair=repair,
                      dispatcher=c.dispatcher if repair else None,
                      progress=lambda done, total: progress("documents", done, total))
    progress.close()
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json
               else report.text())
    if not report.ok:
        sys.exit(1)


@click.command("backup", help="Back up the database, the object store (incremental: objects "
                              "already in DIR are not copied again) and configuration to DIR.")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-secrets", is_flag=True,
              help="also write secret settings (keys, passwords) in clear to settings.json")
@pass_ctx
def backup_command(c: CliContext, dest: Path, include_secrets: bool) -> None:
    from dms.services.backup import backup

    t0 = time.monotonic()
    progress = _Progress()
    r = backup(c.services, dest, include_secrets=include_secrets, progress=progress)
    progress.close()
    click.echo(f"备份完成 / backup done in {time.monotonic() - t0:.1f} s: schema {r.revision}, "
               f"database {r.database_bytes} bytes, {r.objects} objects ({r.bytes_total} "
               f"bytes), {r.objects_copied} copied ({r.bytes_copied} bytes) → {dest}")


@click.command("restore", help="Restore a backup made by `dms backup` into an EMPTY system "
                               "(new database, empty object store); refuses otherwise.")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
def restore_command(c: CliContext, src: Path) -> None:
    from dms.services.backup import restore

    t0 = time.monotonic()
    c.settings.ensure_dirs()
    progress = _Progress()
    r = restore(c.services, src, progress=progress)
    progress.close()
    click.echo(f"恢复完成 / restore done in {time.monotonic() - t0:.1f} s: schema {r.revision}, "
               f"{r.objects} objects ({r.bytes_total} bytes)")
    for path in r.config_kept:
        click.echo(f"  kept this system's {path} (differs from the backup's copy)", err=True)
    click.echo("next: dms db upgrade && dms reindex && dms fsck")


@click.command("downgrade", help="Undo migrations down to REVISION (e.g. -1 for one step).",
            context_settings={"ignore_unknown_options": True})  # "-1" is a revision
@click.argument("revision")
@pass_ctx
def db_downgrade(c: CliContext, revision: str) -> None:
    from dms.db.migrate import downgrade

    downgrade(c.settings.database_url, revision)
    click.echo(f"database downgraded to {revision}: {c.settings.database_url}")


@click.command("current", help="Print the schema revision of the database.")
@pass_ctx
def db_current(c: CliContext) -> None:
    from sqlalchemy import inspect, text

    with c.services.engine.connect() as conn:
        rev = (conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
               if inspect(conn).has_table("alembic_version") else None)
    click.echo(rev or "(empty database)")
