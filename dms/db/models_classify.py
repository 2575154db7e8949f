"""Tables of document classification: every (re)classification and human decision, the
facts found on a document with where they were found, and the learned model versions.

``Document.doc_type / type_confidence / type_confirmed / facts`` stay the current state;
these tables are the history and the provenance behind it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dms.db.base import Base, utcnow


class TypeDecision(Base):
    """One classification of a document: by the classifier (``source='auto'``) or by a
    person confirming or correcting it (``source='human'``, the training labels)."""

    __tablename__ = "type_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(8))  # auto | human
    actor: Mapped[str] = mapped_column(String(64), default="system")
    doc_type: Mapped[str] = mapped_column(String(16), default="")  # "" = no checklist type
    previous_type: Mapped[str] = mapped_column(String(16), default="")
    confidence: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(48), default="")  # rules | rules+model v3 ...
    model_version: Mapped[int | None] = mapped_column(Integer)
    runners_up: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[code, p], ...]
    reason: Mapped[str] = mapped_column(Text, default="")


class DocumentFact(Base):
    """One extracted (or hand-entered) fact of a document, with its provenance."""

    __tablename__ = "document_facts"
    __table_args__ = (UniqueConstraint("document_id", "field"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(8), default="ocr")  # ocr | manual
    page_no: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[int] | None] = mapped_column(JSON)  # x0,y0,x1,y1 in the processed page
    valid: Mapped[bool] = mapped_column(Boolean, default=True)  # checksum/format held
    # why a person must look: checksum_failed | customer_no_mismatch; "" = accepted
    flag: Mapped[str] = mapped_column(String(32), default="", index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")


class ClassifierModel(Base):
    """A trained version of the learned classifier; the artefact is in the object store
    under ``key``; ``sha256`` detects a damaged file. One row is ``active``."""

    __tablename__ = "classifier_models"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    n_documents: Mapped[int] = mapped_column(Integer, default=0)
    last_decision_id: Mapped[int] = mapped_column(Integer, default=0)  # labels seen up to
    classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
