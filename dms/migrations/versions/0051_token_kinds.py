"""Tokens per scanner station as well as per system: ``system_tokens.kind``.

The events API's per-system tokens become the one token table; a station's token
(kind "station") uploads to and reads its own batches only, a system's (kind "system")
posts events only (see dms.domain.access).

Revision ID: 0051
Revises: 0050
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("system_tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False,
                                   server_default="system"))


def downgrade() -> None:
    with op.batch_alter_table("system_tokens") as batch:
        batch.drop_column("kind")
