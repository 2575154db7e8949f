"""Upkeep tables: which holiday calendar the stored business deadlines were computed with.

``businesses.step_warn_at/step_due_at`` are instants computed from working days once, when
a step completes. When ``holidays.yaml`` changes those instants are stale; each row here
records one recomputation, and the newest row's fingerprint names the calendar in force.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class CalendarApplied(Base):
    __tablename__ = "calendar_applied"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the calendar's days
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    businesses_updated: Mapped[int] = mapped_column(Integer, default=0)
