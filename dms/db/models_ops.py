"""Operations tables: the heartbeats of OCR worker processes, read by /healthz.

Celery's own worker inspection needs broadcast messages, which the embedded SQLite broker
cannot carry; a row per worker that its main process refreshes works on every broker.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                              index=True)
    concurrency: Mapped[int] = mapped_column(Integer, default=0)
