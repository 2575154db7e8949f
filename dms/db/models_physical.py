"""Tables of the physical archive beyond the location tree: volume contents and loans.

The location tree itself (rooms, units, slots, boxes, volumes, moves) lives in
``dms.db.models``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class VolumeDocument(Base):
    """Which scanned documents' paper originals a volume (卷宗) holds."""

    __tablename__ = "volume_documents"
    volume_id: Mapped[int] = mapped_column(ForeignKey("volumes.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True,
                                             index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order inside the volume


class Loan(Base):
    """One lending of a volume's paper original (借阅), from request to return."""

    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(primary_key=True)
    volume_id: Mapped[int] = mapped_column(ForeignKey("volumes.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester: Mapped[str] = mapped_column(String(64))  # username, kept if the user goes
    borrower: Mapped[str] = mapped_column(String(100))  # who holds the paper: display name
    borrower_team: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(String(16))  # dispute | audit | business
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    checked_out_by: Mapped[str] = mapped_column(String(64), default="")
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    returned_to: Mapped[str] = mapped_column(String(64), default="")
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
