"""The relational model. Later issues refine it through Alembic migrations.

Naming: an *archive item* is one business's paper for one customer; its
lifecycle state lives on ``Business.archive_state``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index,
                        Integer, String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The tables of the other areas: importing this module gives the whole schema
# (Base.metadata for Alembic and create_all). They build on dms.db.base, not on this module.
from dms.db import models_classify  # noqa: F401
from dms.db import models_events  # noqa: F401
from dms.db import models_gaps  # noqa: F401
from dms.db import models_lifecycle  # noqa: F401
from dms.db import models_ops  # noqa: F401
from dms.db import models_physical  # noqa: F401
from dms.db import models_security  # noqa: F401
from dms.db import models_upkeep  # noqa: F401
from dms.db.base import NAMING as NAMING
from dms.db.base import Base, utcnow


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_team_leader: Mapped[bool] = mapped_column(Boolean, default=False)  # receives escalations
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    email: Mapped[str] = mapped_column(String(200), default="")  # where urges are mailed
    # Part of every session cookie; raised on logout and password change, which revokes
    # every cookie issued before (a signed cookie cannot be recalled otherwise).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    team: Mapped[Team | None] = relationship()


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_no: Mapped[str] = mapped_column(String(32), unique=True)  # 户号
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")  # resident / non_resident
    address: Mapped[str] = mapped_column(String(300), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    businesses: Mapped[list[Business]] = relationship(back_populates="customer")
    documents: Mapped[list[Document]] = relationship(back_populates="customer")


class Business(Base):
    """One business of a customer (新装, 增容, 过户…) and its archive item state."""

    __tablename__ = "businesses"
    # Inbox queries: counts and first pages per scope (team / handler / everyone).
    __table_args__ = (
        Index("ix_businesses_team_state_since", "team_id", "archive_state", "state_since"),
        Index("ix_businesses_handler_state_since", "handler_id", "archive_state", "state_since"),
        Index("ix_businesses_state_since", "archive_state", "state_since"),
        Index("ix_businesses_team_step_due", "team_id", "step_due_at"),
        Index("ix_businesses_handler_step_due", "handler_id", "step_due_at"),
        Index("ix_businesses_step_due", "step_due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    business_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    business_type: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    archive_state: Mapped[str] = mapped_column(String(24), default="pending_add", index=True)
    state_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The business time limit of the current step (业扩时限), kept as instants so the
    # inbox finds warning/overdue items with an index range scan (see dms.domain.reminders).
    current_step: Mapped[str | None] = mapped_column(String(32))
    step_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    step_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    customer: Mapped[Customer] = relationship(back_populates="businesses")
    steps: Mapped[list[BusinessStepDone]] = relationship(back_populates="business",
                                                          order_by="BusinessStepDone.completed_at")
    documents: Mapped[list[Document]] = relationship(back_populates="business")


class BusinessStepDone(Base):
    __tablename__ = "business_steps"
    __table_args__ = (UniqueConstraint("business_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    step: Mapped[str] = mapped_column(String(32))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    business: Mapped[Business] = relationship(back_populates="steps")


class Document(Base):
    """One scanned file: the original in the object store, addressed by its SHA-256."""

    __tablename__ = "documents"
    # The gap report looks a (business, type) pair's documents up (migration 0011).
    __table_args__ = (Index("ix_documents_business_id_doc_type", "business_id", "doc_type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(16), index=True)
    type_confidence: Mapped[float | None] = mapped_column(Float)
    type_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300), default="")
    source_name: Mapped[str] = mapped_column(String(500))  # path as the station sent it
    mime: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_key: Mapped[str] = mapped_column(String(300))
    searchable_pdf_key: Mapped[str | None] = mapped_column(String(300))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    # queued → rasterising → ocr → done | failed (see dms.worker.tasks)
    ocr_status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    ocr_error: Mapped[str] = mapped_column(Text, default="")
    # The OCR engine asked for by the last `dms ocr --reprocess --engine`; "" = settings.
    ocr_engine: Mapped[str] = mapped_column(String(32), default="", server_default="")
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What `dms fsck --repair` last found of the original in the object store: "ok",
    # "missing" or "corrupt" (its bytes no longer hash to sha256). Never cleared by
    # deleting anything: a restored original sets it back to "ok" on the next repair.
    original_state: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    original_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    customer: Mapped[Customer] = relationship(back_populates="documents")
    business: Mapped[Business | None] = relationship(back_populates="documents")
    pages: Mapped[list[Page]] = relationship(back_populates="document", order_by="Page.page_no",
                                             cascade="all, delete-orphan")


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "page_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)  # 1-based
    image_key: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    existing_text: Mapped[str] = mapped_column(Text, default="")  # a PDF's own text layer
    words_key: Mapped[str | None] = mapped_column(String(300))  # word boxes JSON in the store
    page_pdf_key: Mapped[str | None] = mapped_column(String(300))
    confidence: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew: Mapped[float] = mapped_column(Float, default=0.0)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why (issue 20): comma-separated codes from the OCR pipeline (empty_with_ink,
    # short_for_ink, low_confidence, orientation_uncertain, fallback_used:<how>...).
    review_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    ocr_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    ocr_error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(32), default="")
    ocr_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ocr_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The page image's resolution when the source says it (a PDF page's size); else None
    # and the image file's own tag (or the settings) is used.
    dpi: Mapped[int | None] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(128), default="")  # host:pid that claimed it
    document: Mapped[Document] = relationship(back_populates="pages")


class Task(Base):
    """An archive task for a person (digitise the paper of a step, review, shelve…)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_next_urge", "status", "next_urge_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    step: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Urging (催办): how often this task was urged and when the sweep looks at it next.
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    last_urged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_urge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only: rows are inserted, never updated or deleted (see dms.db.audit)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    from_state: Mapped[str] = mapped_column(String(24), default="")
    to_state: Mapped[str] = mapped_column(String(24), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Reads of personal data (issue 17): whose data, and from which address.
    customer_no: Mapped[str] = mapped_column(String(32), default="", server_default="",
                                             index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The hash chain (dms.domain.audit): position, the previous entry's hash, this one's.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the last entry's position and hash. Appends lock it, so concurrent writers
    cannot fork the chain, and ``dms audit verify`` notices a deleted tail."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class IngestBatch(Base):
    __tablename__ = "ingest_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))  # folder or "upload:<station>"
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The process running a folder batch, so a later run can tell a batch whose process
    # was killed (still "running") from one that is alive (see ingest.owner).
    owner_host: Mapped[str] = mapped_column(String(255), default="", server_default="")
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IngestFile(Base):
    """What happened to one file of a batch: stored, duplicate or quarantined."""

    __tablename__ = "ingest_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    rel_path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # stored | duplicate | quarantined
    reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    quarantine_key: Mapped[str | None] = mapped_column(String(300))


# --- physical archive (DOMAIN.md "Physical locations") ------------------------------


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))


class ShelvingUnit(Base):
    __tablename__ = "shelving_units"
    __table_args__ = (UniqueConstraint("room_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    number: Mapped[int] = mapped_column(Integer)
    sections: Mapped[int] = mapped_column(Integer)
    levels: Mapped[int] = mapped_column(Integer)
    boxes_per_slot: Mapped[int] = mapped_column(Integer, default=10)


class Slot(Base):
    """One side/section/level position of a shelving unit, e.g. R01-J03-A-05-2."""

    __tablename__ = "slots"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("shelving_units.id"), index=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    side: Mapped[str] = mapped_column(String(1))
    section: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    # Boxes on the slot, kept with every move so free-slot search needs no COUNT.
    occupied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Box(Base):
    __tablename__ = "boxes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # printed as barcode
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    capacity: Mapped[int] = mapped_column(Integer, default=10, server_default="10")  # volumes


class Volume(Base):
    __tablename__ = "volumes"
    id: Mapped[int] = mapped_column(primary_key=True)
    volume_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    box_id: Mapped[int | None] = mapped_column(ForeignKey("boxes.id"), index=True)
    formed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    formed_on: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    formed_by: Mapped[str] = mapped_column(String(64), default="", server_default="")


class LocationMove(Base):
    __tablename__ = "location_moves"
    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("boxes.id"), index=True)
    from_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    to_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="move", server_default="move")

