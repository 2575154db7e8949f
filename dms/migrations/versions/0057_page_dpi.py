"""Pages: the resolution of the page image (a scanner page's own DPI, from its PDF page
size; a JPEG taken out of a PDF often says 72 or nothing), told to the OCR engine.

Revision ID: 0057
Revises: 0050
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0057"
down_revision = "0056"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpi", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("dpi")
