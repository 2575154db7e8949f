"""Alembic migrations (a package so that the wheel carries env.py and the revisions)."""
