"""Events reconciliation: external handlers, resolution of rejected events, undeliverable
urges, customer kinds as long as the event API allows

Revision ID: 0056
Revises: 0050
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0056"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_handlers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mapped_by", sa.String(length=64), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_external_handlers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_handlers")),
        sa.UniqueConstraint("system", "external_id",
                            name="uq_external_handlers_system_external_id"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("resolution_reason", sa.Text(), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16),
                              type_=sa.String(length=32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32),
                              type_=sa.String(length=16), existing_nullable=False)
    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.drop_column("delivered")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("resolution_reason")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolution")
    op.drop_table("external_handlers")
