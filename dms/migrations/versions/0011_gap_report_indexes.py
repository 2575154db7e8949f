"""Gap report: documents looked up per (business, document type)

Revision ID: 0011
Revises: 0001
Create Date: 2026-11-28

business_steps needs no index of its own: its unique constraint (business_id, step)
already is one.
"""
from alembic import op

revision = "0011"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_business_id_doc_type", "documents",
                    ["business_id", "doc_type"])


def downgrade() -> None:
    op.drop_index("ix_documents_business_id_doc_type", table_name="documents")
