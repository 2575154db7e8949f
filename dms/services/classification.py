"""Classify a document after OCR, store its facts with provenance, and the human side:
the review queue, confirming or correcting a type, editing a fact (all audited).

The type decision is rules (``config/doc_types.yaml``) blended with the learned model
(``dms.classify``) when one is trained and readable. A person's decision always wins:
a confirmed type is never overwritten by a later automatic run.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from dms.classify.registry import ModelStatus, load_active
from dms.db import audit
from dms.db.models import Business, Customer, Document, Page, Team
from dms.db.models_classify import DocumentFact, TypeDecision
from dms.domain.classify_rules import (UNKNOWN, Prediction, RuleSet, classify_text, combine,
                                       load_rules, normalise)
from dms.domain.facts import FIELDS, Fact, extract_facts, locate, valid_credit_code, \
    valid_id_number
from dms.errors import InvalidInputError, NotFoundError
from dms.services.container import Services
from dms.services.indexing import document_changed, reindex_document_after_commit
from dms.services.page_words import decode_words
from dms.settings import Settings

log = logging.getLogger(__name__)

RULES_FILE = "doc_types.yaml"
FLAG_MISMATCH = "customer_no_mismatch"
FLAG_CHECKSUM = "checksum_failed"


@lru_cache(maxsize=4)
def _rules(path: Path, mtime: float, types: tuple[str, ...]) -> RuleSet:
    return load_rules(path, types)


def rules_for(services: Services) -> RuleSet:
    """The rules, re-read when the file changes (a deployment tunes them live)."""
    path = services.settings.config_dir / RULES_FILE
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _rules(path, mtime, tuple(services.checklist.document_types))


def predict(session: Session, services: Services, pages: list[str]
            ) -> tuple[Prediction, ModelStatus]:
    """Rules, then the learned model when there is a usable one."""
    pred = classify_text(rules_for(services), pages)
    model, status = load_active(session, services.store)
    if model is not None:
        probs, sim = model.predict(normalise("".join(pages)))
        pred = combine(pred, probs, similarity=sim, novelty_below=model.novelty_below,
                       model_version=model.version)
    elif status.degraded:
        pred = Prediction(pred.doc_type, pred.confidence, pred.distribution,
                          "rules (model unusable)", pred.evidence)
    return pred, status


def _done_pages(doc: Document) -> list[Page]:
    return sorted((p for p in doc.pages if p.ocr_status == "done"), key=lambda p: p.page_no)


def classify_document(session: Session, services: Services, document_id: int, *,
                      actor: str = "system", today: dt.date | None = None) -> Prediction | None:
    """Classify one OCRed document and extract its facts, in the caller's transaction."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFoundError(f"document {document_id} not found")
    pages = _done_pages(doc)
    if not pages:
        return None
    texts = [p.text for p in pages]
    pred, _ = predict(session, services, texts)
    previous = doc.doc_type or ""
    if not doc.type_confirmed:
        doc.doc_type = pred.doc_type or None
        doc.type_confidence = round(pred.confidence, 4)
    session.add(TypeDecision(
        document_id=doc.id, source="auto", actor=actor, doc_type=pred.doc_type,
        previous_type=previous, confidence=round(pred.confidence, 4), method=pred.method[:48],
        model_version=_version_of(pred.method), runners_up=pred.runners_up(3),
        reason="; ".join(pred.evidence.get(pred.doc_type, [])[:8])[:500]))
    store_facts(session, services, doc, pages, today=today)
    document_changed(session, doc.id)  # type and facts are in the index entry
    audit.record(session, actor=actor, action="classified", entity="document", entity_id=doc.id,
                 data={"doc_type": pred.doc_type, "confidence": round(pred.confidence, 4),
                       "method": pred.method, "kept_confirmed": doc.type_confirmed})
    return pred


def _version_of(method: str) -> int | None:
    if " v" not in method:
        return None
    digits = method.split(" v", 1)[1].split(" ", 1)[0]
    return int(digits) if digits.isdigit() else None


def store_facts(session: Session, services: Services, doc: Document, pages: list[Page], *,
                today: dt.date | None = None) -> dict[str, Fact]:
    """Extract facts from the pages and keep them, with page and box; hand-entered facts
    are kept as they are. ``doc.facts`` gets the accepted values (indexed for search)."""
    expiring = bool(doc.doc_type) and doc.doc_type in services.checklist.document_types \
        and services.checklist.document_types[doc.doc_type].expires
    found = extract_facts([p.text for p in pages], expiring=expiring,
                          today=today or dt.date.today())
    rows = {f.field: f for f in session.scalars(
        select(DocumentFact).where(DocumentFact.document_id == doc.id))}
    words: dict[int, list[dict[str, Any]]] = {}
    for name, fact in found.items():
        row = rows.get(name)
        if row is not None and row.source == "manual":
            continue
        page = pages[fact.page_no - 1]
        if page.page_no not in words:
            words[page.page_no] = _words(services, page)
        bbox = locate(fact.raw, words[page.page_no])
        if row is None:
            row = rows[name] = DocumentFact(document_id=doc.id, field=name)
            session.add(row)
        row.value, row.source, row.page_no = fact.value[:300], "ocr", page.page_no
        row.bbox = list(bbox) if bbox else None
        row.valid, row.note, row.updated_by = fact.valid, fact.note[:200], "system"
        row.flag = _flag(doc, name, fact.value, fact.valid)
    for name, row in list(rows.items()):
        if row.source == "ocr" and name not in found:  # no longer read off the page
            session.delete(row)
            del rows[name]
    doc.facts = {n: r.value for n, r in sorted(rows.items()) if r.valid and not r.flag}
    return found


def _flag(doc: Document, name: str, value: str, valid: bool) -> str:
    if not valid:
        return FLAG_CHECKSUM
    folder_no = doc.customer.customer_no if doc.customer else ""
    if name == "customer_no" and folder_no and value != folder_no:
        return FLAG_MISMATCH  # the page names another customer than the folder it came in
    return ""


def _words(services: Services, page: Page) -> list[dict[str, Any]]:
    if not page.words_key:
        return []
    try:
        return decode_words(services.store.get_bytes(page.words_key))
    except Exception:  # provenance is a nicety: a missing words file must not stop typing
        log.warning("words of page %s unreadable; facts get no position", page.id)
        return []


# --- the review queue ---------------------------------------------------------------------

def poor_reading() -> Any:
    """The document has a page the OCR flagged for review (issue 20): its type and facts
    were drawn from a poor reading, so they count as unsure until a person confirms."""
    return exists().where(Page.document_id == Document.id, Page.needs_review.is_(True))


def review_filter(settings: Settings) -> Any:
    """Documents a person must look at: no type, a type below the confidence setting, or
    a flagged fact -- unless a person already confirmed the type and no fact is flagged."""
    flagged = exists().where(DocumentFact.document_id == Document.id, DocumentFact.flag != "")
    unsure = and_(Document.type_confirmed.is_(False), or_(
        Document.doc_type.is_(None), Document.type_confidence.is_(None),
        Document.type_confidence < settings.classify_review_below, poor_reading()))
    return and_(Document.ocr_status.in_(("done", "partial")), or_(unsure, flagged))


def review_query(settings: Settings, teams: list[str] | None) -> Select[Any]:
    q = select(Document).join(Customer, Customer.id == Document.customer_id) \
        .outerjoin(Business, Business.id == Document.business_id).where(review_filter(settings))
    if teams is not None:
        team_ids = select(Team.id).where(Team.code.in_(teams))
        q = q.where(func.coalesce(Business.team_id, Customer.team_id).in_(team_ids))
    return q.order_by(Document.type_confidence.asc().nulls_first(), Document.id)


def review_count(session: Session, settings: Settings, teams: list[str] | None) -> int:
    sub = review_query(settings, teams).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


# --- human decisions ------------------------------------------------------------------------

def confirm_type(session: Session, services: Services, document_id: int, doc_type: str, *,
                 actor: str, reason: str = "") -> bool:
    """A person confirms (same type) or corrects (another type) a document's type.
    Returns True when the type changed. The decision is a training label."""
    if doc_type not in services.checklist.document_types:
        raise InvalidInputError(f"unknown document type {doc_type!r}",
                                hint=f"known: {', '.join(services.checklist.document_types)}")
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFoundError(f"document {document_id} not found")
    previous = doc.doc_type or ""
    changed = previous != doc_type
    doc.doc_type, doc.type_confidence, doc.type_confirmed = doc_type, 1.0, True
    session.add(TypeDecision(document_id=doc.id, source="human", actor=actor, doc_type=doc_type,
                             previous_type=previous, confidence=1.0, method="human",
                             reason=reason[:500]))
    audit.record(session, actor=actor, action="type_corrected" if changed else "type_confirmed",
                 entity="document", entity_id=doc.id, from_state=previous, to_state=doc_type,
                 reason=reason)
    if changed:  # contract dates depend on the type: read the facts again
        store_facts(session, services, doc, _done_pages(doc))
        reindex_document_after_commit(session, services, doc.id)
    return changed


def set_fact(session: Session, document_id: int, field: str, value: str, *,
             actor: str) -> DocumentFact | None:
    """A person enters or corrects a fact; an empty value removes it. Audited; the
    value is validated where the format allows, and accepted (unflagged) as typed."""
    if field not in FIELDS:
        raise InvalidInputError(f"unknown fact {field!r}", hint=f"known: {', '.join(FIELDS)}")
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFoundError(f"document {document_id} not found")
    value = value.strip()
    if value and field == "id_number" and not valid_id_number(value.upper()):
        raise InvalidInputError(f"{value} is not a valid resident ID number (GB 11643)")
    if value and field == "credit_code" and not valid_credit_code(value.upper()):
        raise InvalidInputError(f"{value} is not a valid unified social credit code")
    if value and field in ("contract_start", "contract_end", "signed_date"):
        try:
            value = dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise InvalidInputError(f"{value}: dates are written YYYY-MM-DD") from None
    row = session.scalar(select(DocumentFact).where(DocumentFact.document_id == document_id,
                                                    DocumentFact.field == field))
    old = row.value if row else ""
    if not value:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = DocumentFact(document_id=document_id, field=field)
            session.add(row)
        row.value, row.source, row.valid, row.flag = value.upper() if field in (
            "id_number", "credit_code") else value, "manual", True, ""
        row.updated_by, row.updated_at = actor, dt.datetime.now(dt.UTC)
    facts = dict(doc.facts or {})
    facts.pop(field, None)
    if value and row is not None:
        facts[field] = row.value
    doc.facts = facts
    document_changed(session, document_id)  # identifiers are searched exactly
    audit.record(session, actor=actor, action="fact_edited", entity="document",
                 entity_id=document_id, reason=field, data={"field": field, "from": old,
                                                            "to": value})
    return row if value else None


def facts_of(session: Session, document_id: int) -> list[DocumentFact]:
    order = {f: i for i, f in enumerate(FIELDS)}
    rows = session.scalars(select(DocumentFact).where(DocumentFact.document_id == document_id))
    return sorted(rows, key=lambda r: order.get(r.field, 99))


def last_auto_decision(session: Session, document_id: int) -> TypeDecision | None:
    return session.scalar(select(TypeDecision).where(
        TypeDecision.document_id == document_id, TypeDecision.source == "auto")
        .order_by(TypeDecision.id.desc()).limit(1))


__all__ = ["UNKNOWN", "classify_document", "confirm_type", "facts_of", "predict",
           "review_count", "review_query", "rules_for", "set_fact", "store_facts"]


def classify_after_ocr(session: Session, services: Services, document_id: int) -> None:
    """The OCR flow's hook: classify before the document is indexed. A failure here is
    logged and leaves the document untyped (so in review); it never fails the OCR."""
    try:
        classify_document(session, services, document_id)
    except Exception:
        log.exception("classification of document %s failed; it goes to review", document_id)
