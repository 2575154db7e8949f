"""Tables of the archive lifecycle: inbound business events, system tokens, urges and
the contract-expiry digest. Columns added to ``businesses``/``tasks``/``users``, and the
indexes the inbox relies on, live with those tables in ``dms.db.models``."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import true as sa_true
from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class SystemToken(Base):
    """A bearer token of one scanner station (upload API) or one upstream system (events
    API); only its SHA-256 is kept. ``system`` is the station's or system's name."""

    __tablename__ = "system_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(64), unique=True)
    # station | system: what the token may do is the access policy's row for this subject
    kind: Mapped[str] = mapped_column(String(16), default="system", server_default="system")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboundEvent(Base):
    """Every business event received, accepted or rejected, kept for inspection.

    ``accepted_key`` ("system:event_id") is set only on accepted events: its unique
    constraint makes delivery idempotent while a rejected event may be re-sent fixed.
    """

    __tablename__ = "inbound_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128), default="", index=True)
    accepted_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # accepted | rejected
    error_code: Mapped[str] = mapped_column(String(48), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default="api")  # api | import
    business_no: Mapped[str] = mapped_column(String(32), default="", index=True)
    step: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  index=True)
    # How an administrator resolved a rejected event: "" (open), applied or dismissed.
    resolution: Mapped[str] = mapped_column(String(16), default="", server_default="")
    resolved_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class Urge(Base):
    """One urge (催办) sent to one person about one overdue task."""

    __tablename__ = "urges"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # digitise | transfer
    urge_no: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)  # sent to a team leader
    # False: nobody in the task's team could receive it (no collector, no leader); it went
    # to the archive room or an administrator instead and does not count as sent.
    delivered: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ContractExpiry(Base):
    """The latest end date per customer and expiring document type (供用电合同, 调度协议),
    digested from ``documents.facts['contract_end']`` by the reminder sweep so the inbox
    reads a small indexed table instead of parsing JSON of a million documents."""

    __tablename__ = "contract_expiries"
    __table_args__ = (UniqueConstraint("customer_id", "doc_type"),
                      Index("ix_contract_expiries_team_ends", "team_id", "ends_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    doc_type: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    ends_on: Mapped[date] = mapped_column(Date, index=True)

