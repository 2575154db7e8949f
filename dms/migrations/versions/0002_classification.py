"""Classification: type decisions (auto and human), document facts with provenance,
learned classifier model versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "type_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("previous_type", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=48), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("runners_up", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_type_decisions_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_type_decisions")),
    )
    with op.batch_alter_table("type_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_type_decisions_document_id"), ["document_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_type_decisions_at"), ["at"], unique=False)

    op.create_table(
        "document_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=True),
        sa.Column("bbox", sa.JSON(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("flag", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE",
                                name=op.f("fk_document_facts_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_facts")),
        sa.UniqueConstraint("document_id", "field", name=op.f("uq_document_facts_document_id")),
    )
    with op.batch_alter_table("document_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_facts_document_id"), ["document_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_document_facts_flag"), ["flag"], unique=False)

    op.create_table(
        "classifier_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_documents", sa.Integer(), nullable=False),
        sa.Column("last_decision_id", sa.Integer(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_models")),
        sa.UniqueConstraint("version", name=op.f("uq_classifier_models_version")),
    )
    with op.batch_alter_table("classifier_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classifier_models_active"), ["active"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("classifier_models")
    op.drop_table("document_facts")
    op.drop_table("type_decisions")
