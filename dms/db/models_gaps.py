"""The maintained gap table (issue 9): the gap report's (business, required type) pairs,
kept in step with the live data so the report of every customer is a scan, not a join of
a million documents.

Derived data, like the search index: ``dms.services.gap_table.rebuild`` recomputes it from
the live rows. Database triggers (migration 0012) mark a business in ``gap_dirty`` whenever
its row, its documents' business/type/confidence/confirmation or its completed steps
change — whoever writes, ORM or raw SQL. Before each commit of a dms session the dirty
businesses are recomputed in the same transaction; a report uses the table only when no
business is dirty and ``gap_state`` names the current checklist and review threshold, and
computes from the live rows otherwise. So the table is never read stale.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class GapPair(Base):
    """One (business, required document type) pair as ``gap_report`` defines it. No foreign
    key to businesses: a deleted business's rows go in the same transaction's refresh."""

    __tablename__ = "gap_pairs"
    # Clustered by business on SQLite: a business's pairs are one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}
    business_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ord: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    doc_type: Mapped[str] = mapped_column(String(16))
    doc_name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)  # 0 missing, 1 low, 2 classified, 3 confirmed
    document_id: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    required_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The row's CSV cells from doc_type to open_since, as the download writes them.
    csv_tail: Mapped[str] = mapped_column(Text)


class GapDirty(Base):
    """Businesses whose pairs may differ from ``gap_pairs`` (filled by triggers)."""

    __tablename__ = "gap_dirty"
    business_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class GapState(Base):
    """One row: what the table was computed for (checklist, review threshold, definition)."""

    __tablename__ = "gap_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
