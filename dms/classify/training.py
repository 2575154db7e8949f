"""Retrain the learned classifier on the archive's confirmed documents; evaluate it.

Labels are the types people confirmed or corrected (``Document.type_confirmed``); every
such decision is a ``TypeDecision`` row, so "enough new decisions since the active
model" is a cheap count and the background task can run as often as it likes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dms.classify.metrics import type_report
from dms.classify.model import cross_validate, train
from dms.classify.registry import active_row, next_version, save_model
from dms.db.models import Document, Page
from dms.db.models_classify import ClassifierModel, TypeDecision
from dms.db.session import session_scope
from dms.domain.classify_rules import classify_text, normalise
from dms.services.container import Services

log = logging.getLogger(__name__)


@dataclass
class TrainingSet:
    document_ids: list[int]
    texts: list[str]  # normalised
    raw_pages: list[list[str]]
    labels: list[str]
    last_decision_id: int


def training_set(session: Session, known_types: set[str]) -> TrainingSet:
    docs = session.execute(select(Document.id, Document.doc_type).where(
        Document.type_confirmed.is_(True), Document.doc_type.is_not(None))
        .order_by(Document.id)).all()
    ids = [d for d, t in docs if t in known_types]
    labels = {d: t for d, t in docs}
    pages: dict[int, list[str]] = {d: [] for d in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for doc_id, text in session.execute(select(Page.document_id, Page.text).where(
                Page.document_id.in_(chunk), Page.ocr_status == "done")
                .order_by(Page.document_id, Page.page_no)):
            pages[doc_id].append(text)
    ids = [d for d in ids if pages[d]]
    last = int(session.scalar(select(func.max(TypeDecision.id)).where(
        TypeDecision.source == "human")) or 0)
    return TrainingSet(ids, [normalise("".join(pages[d])) for d in ids],
                       [pages[d] for d in ids], [str(labels[d]) for d in ids], last)


def retrain_due(session: Session, services: Services) -> bool:
    s = services.settings
    row = active_row(session)
    if row is None:
        confirmed = session.scalar(select(func.count()).select_from(Document).where(
            Document.type_confirmed.is_(True)))
        return int(confirmed or 0) >= s.classify_min_training_docs
    new = session.scalar(select(func.count()).select_from(TypeDecision).where(
        TypeDecision.source == "human", TypeDecision.id > row.last_decision_id))
    return int(new or 0) >= s.classify_retrain_after


def retrain(services: Services, *, force: bool = False) -> ClassifierModel | None:
    """Train and activate a new model version when due (or ``force``), if there are
    enough confirmed documents of at least two types; None otherwise (rules stay)."""
    s = services.settings
    with session_scope(services.sessions) as session:
        if not force and not retrain_due(session, services):
            return None
        ts = training_set(session, set(services.checklist.document_types))
        if len(ts.labels) < s.classify_min_training_docs or len(set(ts.labels)) < 2:
            log.info("not training: %d confirmed documents of %d types (need %d, 2)",
                     len(ts.labels), len(set(ts.labels)), s.classify_min_training_docs)
            return None
        metrics: dict[str, Any] = {"n_documents": len(ts.labels),
                                   "types": sorted(set(ts.labels))}
        if len(ts.labels) <= 5000:  # out-of-fold accuracy, for the record
            rep = type_report(ts.labels, cross_validate(ts.texts, ts.labels))
            metrics["cv_accuracy"] = round(rep["accuracy"], 4)
        model = train(ts.texts, ts.labels, next_version(session))
        row = save_model(session, services.store, model, last_decision_id=ts.last_decision_id,
                         metrics=metrics)
        log.info("classifier v%s trained on %d documents", row.version, len(ts.labels))
        return row


def evaluate(services: Services, *, folds: int = 5) -> dict[str, Any]:
    """Cross-validated accuracy and per-type confusion on the confirmed documents:
    the learned model (each document predicted by a model that never saw it) and the
    rules alone, side by side."""
    from dms.services.classification import rules_for

    with session_scope(services.sessions) as session:
        ts = training_set(session, set(services.checklist.document_types))
    out: dict[str, Any] = {"n_documents": len(ts.labels)}
    rules = rules_for(services)
    out["rules"] = type_report(ts.labels, [classify_text(rules, p).doc_type
                                           for p in ts.raw_pages])
    if len(set(ts.labels)) >= 2 and len(ts.labels) >= 4:
        out["model"] = type_report(ts.labels, cross_validate(ts.texts, ts.labels, folds=folds))
    return out
