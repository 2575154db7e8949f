"""``dms tokens …``: bearer tokens of scanner stations and upstream systems (registered on
the ``dms`` group in dms.cli)."""
from __future__ import annotations

import json

import click

from dms.cli_context import CliContext, pass_ctx
from dms.errors import InvalidInputError
from dms.services import tokens


@click.group("tokens", help="API tokens, one per scanner station or upstream system.")
def tokens_group() -> None:
    pass


@tokens_group.command("create", help="Create (or replace) a token; it is printed once and "
                                     "only its hash is kept.")
@click.option("--station", default=None, help="a scanner station: uploads and reads its own "
                                              "batches only")
@click.option("--system", default=None, help="an upstream system (营销系统): posts events only")
@pass_ctx
def tokens_create(c: CliContext, station: str | None, system: str | None) -> None:
    if (station is None) == (system is None):
        raise InvalidInputError("give exactly one of --station NAME or --system NAME")
    kind, name = ("station", station) if station is not None else ("system", system)
    assert name is not None
    token_id, token = tokens.create_token(c.services, kind, name)
    click.echo(f"token {token_id} for {kind} {name} (shown once):", err=True)
    click.echo(token)


@tokens_group.command("list", help="The tokens: id, kind, name, state, last use.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tokens_list(c: CliContext, as_json: bool) -> None:
    rows = tokens.list_tokens(c.services)
    if as_json:
        click.echo(json.dumps([{"id": t.id, "kind": t.kind, "name": t.name, "active": t.active,
                                "created_at": t.created_at.isoformat(),
                                "last_used_at": t.last_used_at.isoformat()
                                if t.last_used_at else None} for t in rows], ensure_ascii=False))
        return
    for t in rows:
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        click.echo(f"{t.id:>4}  {t.kind:<8} {t.name:<24} "
                   f"{'active' if t.active else 'revoked':<8} last used {used}")


@tokens_group.command("revoke", help="Revoke a token by its id (see dms tokens list).")
@click.argument("token_id", type=int)
@pass_ctx
def tokens_revoke(c: CliContext, token_id: int) -> None:
    t = tokens.revoke_token(c.services, token_id)
    click.echo(f"revoked token {t.id} of {t.kind} {t.name}")
