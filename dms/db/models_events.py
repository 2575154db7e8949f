"""Marketing-system handlers known only by their external id (工号 in 营销系统).

An event may name a handler who is not (yet) a dms user. The event is not rejected:
its task goes to the team's queue, the external id is kept here, and an administrator
maps it to a user; the mapping then assigns that handler's open tasks.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class ExternalHandler(Base):
    __tablename__ = "external_handlers"
    __table_args__ = (UniqueConstraint("system", "external_id",
                                       name="uq_external_handlers_system_external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    mapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mapped_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
