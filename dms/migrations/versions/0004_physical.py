"""Physical archive: slot occupancy, box capacity, volume title, move kind; volume
contents and loans.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occupied", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("boxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=False,
                                      server_default="10"))
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("formed_by", sa.String(length=64), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("location_moves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False,
                                      server_default="move"))

    op.create_table(
        "volume_documents",
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_volume_documents_document_id_documents")),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"],
                                name=op.f("fk_volume_documents_volume_id_volumes")),
        sa.PrimaryKeyConstraint("volume_id", "document_id", name=op.f("pk_volume_documents")),
    )
    with op.batch_alter_table("volume_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_volume_documents_document_id"), ["document_id"],
                              unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volume_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=True),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("borrower", sa.String(length=100), nullable=False),
        sa.Column("borrower_team", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("checked_out_by", sa.String(length=64), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_to", sa.String(length=64), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["requester_id"], ["users.id"],
                                name=op.f("fk_loans_requester_id_users")),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"],
                                name=op.f("fk_loans_volume_id_volumes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_requester_id"), ["requester_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_loans_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_volume_id"), ["volume_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_volume_id"))
        batch_op.drop_index(batch_op.f("ix_loans_state"))
        batch_op.drop_index(batch_op.f("ix_loans_requester_id"))
        batch_op.drop_index(batch_op.f("ix_loans_due_at"))
    op.drop_table("loans")
    with op.batch_alter_table("volume_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volume_documents_document_id"))
    op.drop_table("volume_documents")
    with op.batch_alter_table("location_moves", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.drop_column("formed_by")
        batch_op.drop_column("title")
    with op.batch_alter_table("boxes", schema=None) as batch_op:
        batch_op.drop_column("capacity")
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_column("occupied")
