"""Merge the eight branches off 0001 into one head.

Revisions 0002–0041 were each written against the first revision, so the history had
eight heads and ``alembic upgrade head`` refused to run. This revision joins them; every
later migration chains linearly from here (``tests/db/test_migrations.py`` checks that
there is exactly one head).

Revision ID: 0050
Revises: 0002, 0003, 0004, 0005, 0010, 0011, 0012, 0041
"""
from __future__ import annotations

revision = "0050"
down_revision = ("0002", "0003", "0004", "0005", "0010", "0011", "0012", "0041")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
