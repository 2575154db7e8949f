"""Operations: the state of a document's original as the last `dms fsck --repair` found
it; heartbeats of OCR worker processes for /healthz

Revision ID: 0054
Revises: 0050
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_state", sa.String(length=16), nullable=False,
                                      server_default="ok"))
        batch_op.add_column(sa.Column("original_checked_at", sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    op.create_index(op.f("ix_worker_heartbeats_seen_at"), "worker_heartbeats", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_heartbeats_seen_at"), table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("original_checked_at")
        batch_op.drop_column("original_state")
