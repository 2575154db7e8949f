"""Alembic revisions (a package so that the wheel carries them; alembic reads them as files)."""
