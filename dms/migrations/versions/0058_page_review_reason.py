"""Pages: why a page needs review (issue 20) -- a comma-separated list of short codes
(empty_with_ink, short_for_ink, low_confidence, almost_no_text, orientation_uncertain,
existing_text_layer_may_be_better, fallback_used:<how>:<engine>), shown on the document
page and in the review queue.

Revision ID: 0058
Revises: 0057
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_reason", sa.String(length=300), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("review_reason")
