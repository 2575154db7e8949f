"""``dms init``: the one-shot set-up of a scaled-out deployment's stores.

Run once per deployment (the compose ``init`` service, after ``dms db upgrade``), so
that the many web and worker processes that start next find the bucket and the index
mapping made, instead of racing to create them.
"""
from __future__ import annotations

import click

from dms.cli import CliContext, pass_ctx


@click.command("init", help="Create the object-store bucket and the search index (mapping) "
                            "if missing; safe to run again.")
@pass_ctx
def init_command(c: CliContext) -> None:
    services = c.services
    store = services.store  # an S3 store creates its bucket when made
    index = services.index  # Elasticsearch: creates the versioned index, alias and mapping
    click.echo(f"object store: {type(store).__name__} ok")
    click.echo(f"search index: {type(index).__name__} ok, {index.count()} pages")
