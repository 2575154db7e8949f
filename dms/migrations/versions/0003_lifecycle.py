"""Archive lifecycle: inbound events, system tokens, urges, contract expiries; step
time limits on businesses, urging on tasks, e-mail on users; inbox indexes.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("businesses", schema=None) as b:
        b.add_column(sa.Column("current_step", sa.String(length=32), nullable=True))
        b.add_column(sa.Column("step_warn_at", TZ, nullable=True))
        b.add_column(sa.Column("step_due_at", TZ, nullable=True))
        b.create_index("ix_businesses_team_state_since",
                       ["team_id", "archive_state", "state_since"], unique=False)
        b.create_index("ix_businesses_handler_state_since",
                       ["handler_id", "archive_state", "state_since"], unique=False)
        b.create_index("ix_businesses_state_since", ["archive_state", "state_since"],
                       unique=False)
        b.create_index("ix_businesses_team_step_due", ["team_id", "step_due_at"], unique=False)
        b.create_index("ix_businesses_handler_step_due", ["handler_id", "step_due_at"],
                       unique=False)
        b.create_index("ix_businesses_step_due", ["step_due_at"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as t:
        t.add_column(sa.Column("urge_count", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("last_urged_at", TZ, nullable=True))
        t.add_column(sa.Column("next_urge_at", TZ, nullable=True))
        t.create_index("ix_tasks_status_next_urge", ["status", "next_urge_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as u:
        u.add_column(sa.Column("email", sa.String(length=200), nullable=False,
                               server_default=""))

    op.create_table(
        "system_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_tokens")),
        sa.UniqueConstraint("system", name=op.f("uq_system_tokens_system")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_system_tokens_token_sha256")),
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("accepted_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=48), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("business_no", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("accepted_key", name=op.f("uq_inbound_events_accepted_key")),
    )
    with op.batch_alter_table("inbound_events", schema=None) as e:
        e.create_index(e.f("ix_inbound_events_business_no"), ["business_no"], unique=False)
        e.create_index(e.f("ix_inbound_events_event_id"), ["event_id"], unique=False)
        e.create_index(e.f("ix_inbound_events_received_at"), ["received_at"], unique=False)
        e.create_index(e.f("ix_inbound_events_status"), ["status"], unique=False)

    op.create_table(
        "urges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("urge_no", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"],
                                name=op.f("fk_urges_business_id_businesses")),
        sa.ForeignKeyConstraint(["recipient_id"], ["users.id"],
                                name=op.f("fk_urges_recipient_id_users")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_urges_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urges")),
    )
    with op.batch_alter_table("urges", schema=None) as u:
        u.create_index(u.f("ix_urges_at"), ["at"], unique=False)
        u.create_index(u.f("ix_urges_business_id"), ["business_id"], unique=False)
        u.create_index(u.f("ix_urges_recipient_id"), ["recipient_id"], unique=False)
        u.create_index(u.f("ix_urges_task_id"), ["task_id"], unique=False)

    op.create_table(
        "contract_expiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_contract_expiries_customer_id_customers")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_contract_expiries_document_id_documents")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_contract_expiries_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_expiries")),
        sa.UniqueConstraint("customer_id", "doc_type",
                            name=op.f("uq_contract_expiries_customer_id")),
    )
    with op.batch_alter_table("contract_expiries", schema=None) as c:
        c.create_index(c.f("ix_contract_expiries_ends_on"), ["ends_on"], unique=False)
        c.create_index("ix_contract_expiries_team_ends", ["team_id", "ends_on"], unique=False)


def downgrade() -> None:
    op.drop_table("contract_expiries")
    op.drop_table("urges")
    op.drop_table("inbound_events")
    op.drop_table("system_tokens")
    with op.batch_alter_table("users", schema=None) as u:
        u.drop_column("email")
    with op.batch_alter_table("tasks", schema=None) as t:
        t.drop_index("ix_tasks_status_next_urge")
        t.drop_column("next_urge_at")
        t.drop_column("last_urged_at")
        t.drop_column("urge_count")
    with op.batch_alter_table("businesses", schema=None) as b:
        for ix in ("ix_businesses_step_due", "ix_businesses_handler_step_due",
                   "ix_businesses_team_step_due", "ix_businesses_state_since",
                   "ix_businesses_handler_state_since", "ix_businesses_team_state_since"):
            b.drop_index(ix)
        b.drop_column("step_due_at")
        b.drop_column("step_warn_at")
        b.drop_column("current_step")
