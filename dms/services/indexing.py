"""Keep the search index in step with the database.

The index is derived data: ``reindex_all`` rebuilds it from the database, so it
can be lost without losing anything.

Every service that changes what a document's index entry holds (its pages, doc_type,
facts, customer/business, the business's lifecycle state or team) calls
``reindex_document_after_commit`` (or the business/customer variants) in the same
transaction; the entry is rebuilt from the committed rows once, after commit.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dms.db.models import Box, Business, Customer, Document, Page, Slot, Volume
from dms.db.models_physical import VolumeDocument
from dms.db.session import after_commit, session_scope
from dms.domain.fact_dates import parse_date
from dms.services import access
from search import PageDoc

if TYPE_CHECKING:
    from dms.services.container import Services

log = logging.getLogger(__name__)

# Facts whose values are exact-match identifiers in search.
IDENTIFIER_FACTS = ("contract_no", "id_number", "credit_code", "meter_no", "customer_no")


def document_team_code(session: Session, document: Document) -> str:
    """The team whose archive holds the document (its business's, else its customer's)."""
    return access.team_code(session, access.document_team_id(document))


def document_location(session: Session, document_id: int) -> str:
    """Where the paper original is: "slot box volume" of its latest volume, as far as known
    (a volume not yet boxed has only its number; a box not yet shelved has no slot)."""
    row = session.execute(
        select(Slot.code, Box.code, Volume.volume_no)
        .select_from(VolumeDocument)
        .join(Volume, Volume.id == VolumeDocument.volume_id)
        .outerjoin(Box, Box.id == Volume.box_id)
        .outerjoin(Slot, Slot.id == Box.slot_id)
        .where(VolumeDocument.document_id == document_id)
        .order_by(Volume.id.desc()).limit(1)).first()
    return " ".join(part for part in row if part) if row else ""


def page_docs(session: Session, document: Document) -> list[PageDoc]:
    customer: Customer = document.customer
    business: Business | None = document.business
    team = document_team_code(session, document)
    location = document_location(session, document.id)
    pages = [p for p in document.pages if p.ocr_status == "done"]
    facts = document.facts or {}
    on_page = page_identifiers([str(facts[k]) for k in IDENTIFIER_FACTS if facts.get(k)],
                               [p.text for p in pages])
    # The customer and business numbers are the whole document's (from the folder or
    # the event), so every page carries them.
    shared = [customer.customer_no] + ([business.business_no] if business else [])
    day = document_date(document, pages)
    return [
        PageDoc(
            page_id=f"{document.id}:{p.page_no}", document_id=document.id, page_no=p.page_no,
            text=p.text, customer_no=customer.customer_no, customer_name=customer.name,
            business_no=business.business_no if business else "",
            business_type=business.business_type if business else "",
            doc_type=document.doc_type or "", team=team,
            state=business.archive_state if business else "",
            date=day, identifiers=sorted(set(shared + ids)),
            title=document.title or document.source_name, location=location,
        )
        for p, ids in zip(pages, on_page, strict=True)
    ]


def page_identifiers(values: list[str], texts: list[str]) -> list[list[str]]:
    """Per page, the document's identifiers (contract no., ID no., …) printed on it, so
    a contract number finds the pages that carry it, not every page of the document.
    Compared without whitespace, half-width and upper case (OCR splits numbers with
    spaces). An identifier no page shows (typed in by a reviewer, or misread) stays on
    every page: it still belongs to the document."""
    if not values:
        return [[] for _ in texts]
    folded = [_fold(t) for t in texts]
    out: list[list[str]] = [[] for _ in texts]
    for value in values:
        key = _fold(value)
        hits = [i for i, text in enumerate(folded) if key and key in text]
        for i in hits or range(len(texts)):
            out[i].append(value)
    return out


_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    # Half-width, no whitespace, upper case: cheap enough for every page of a reindex
    # (numbers and dates need no Traditional/Simplified folding).
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).upper()


# The document's own date, in order of preference; then a date printed on its first
# pages; the scan date only when the document says nothing.
DOCUMENT_DATE_FACTS = ("signed_date", "contract_start")
_EARLIEST = date(1950, 1, 1)


def document_date(document: Document, pages: list[Page] | None = None) -> date:
    """The date the search facets file a document under: a 2020 contract scanned in 2026
    is under 2020."""
    scanned = document.created_at.date()
    facts = document.facts or {}
    for key in DOCUMENT_DATE_FACTS:
        day = parse_date(str(facts.get(key) or ""))
        if day is not None and _EARLIEST <= day <= scanned:
            return day
    for p in sorted(pages if pages is not None else document.pages,
                    key=lambda p: p.page_no)[:3]:
        day = parse_date(_fold(p.text or ""))
        if day is not None and _EARLIEST <= day <= scanned:
            return day
    return scanned


def index_document(session: Session, index: object, document_id: int) -> int:
    """(Re)index one document's pages; a missing document is removed from the index."""
    from search import SearchIndex

    assert isinstance(index, SearchIndex)
    doc = session.get(Document, document_id)
    index.delete_document(document_id)
    if doc is None:
        return 0
    n = index.index_pages(page_docs(session, doc))
    index.refresh()
    return n


@dataclass
class _PendingReindex:
    """One after-commit effect per transaction that rebuilds the entries of all the
    documents the transaction touched (a state change of a business touches many)."""

    services: Services
    document_ids: set[int] = field(default_factory=set)

    def __call__(self) -> None:
        failed = reindex_documents(self.services, sorted(self.document_ids))
        if not failed:
            return
        # The rows are committed; only the derived index entries are missing. Hand them to
        # the queue, whose task retries with backoff until the index is back (issue 17):
        # the index catches up by itself, not only by a manual `dms reindex`.
        retry = self.services.index_retry
        if retry is None:
            log.error("search index unavailable; documents %s not indexed and no queue to "
                      "retry them: run `dms reindex`", failed)
            return
        try:
            retry(failed)
        except Exception:
            log.exception("search index unavailable and the queue refused the retry of "
                          "documents %s: run `dms reindex`", failed)


def reindex_documents(services: Services, document_ids: list[int]) -> list[int]:
    """(Re)index each document from the committed rows; returns those that failed (the
    index unavailable: locked, down, its disk full). One failure does not stop the rest."""
    failed: list[int] = []
    for document_id in document_ids:
        try:
            with session_scope(services.sessions) as session:
                index_document(session, services.index, document_id)
        except Exception as exc:
            log.warning("document %s not indexed: %s", document_id, exc)
            failed.append(document_id)
    return failed


def reindex_document_after_commit(session: Session, services: Services,
                                  document_id: int) -> None:
    """Rebuild ``document_id``'s index entry after ``session`` commits (removing it if
    the document is gone by then). Call it whenever a document's pages, type, facts,
    customer or business change; nothing happens if the transaction rolls back."""
    for effect in session.info.get("effects", []):
        if isinstance(effect, _PendingReindex) and effect.services is services:
            effect.document_ids.add(document_id)
            return
    after_commit(session, _PendingReindex(services, {document_id}))


def reindex_business_after_commit(session: Session, services: Services,
                                  business_id: int) -> None:
    """For changes of a business (lifecycle state, type, team): all its documents."""
    for doc_id in session.scalars(select(Document.id).where(Document.business_id == business_id)):
        reindex_document_after_commit(session, services, doc_id)


def reindex_customer_after_commit(session: Session, services: Services,
                                  customer_id: int) -> None:
    """For changes of a customer (name, team): all its documents."""
    for doc_id in session.scalars(select(Document.id).where(Document.customer_id == customer_id)):
        reindex_document_after_commit(session, services, doc_id)


def _services_of(session: Session) -> Services | None:
    """The Services whose session factory made ``session`` (see Services.sessions)."""
    services: Services | None = session.info.get("services")
    if services is None:  # a bare sessionmaker (a script or test without an index)
        log.debug("session without services: index entries not updated")
    return services


def document_changed(session: Session, document_id: int) -> None:
    """For use cases that get only a Session: the document's entry follows after commit."""
    services = _services_of(session)
    if services is not None:
        reindex_document_after_commit(session, services, document_id)


def business_changed(session: Session, business_id: int | None) -> None:
    """A business's state, type or team changed: all its documents' entries follow."""
    services = _services_of(session)
    if services is not None and business_id is not None:  # None: new, no documents yet
        reindex_business_after_commit(session, services, business_id)


def volumes_changed(session: Session, volume_ids: list[int]) -> None:
    """Volumes were formed, boxed or moved: the location of their documents changed."""
    services = _services_of(session)
    if services is None or not volume_ids:
        return
    session.flush()
    for doc_id in session.scalars(select(VolumeDocument.document_id).where(
            VolumeDocument.volume_id.in_(volume_ids)).distinct()):
        reindex_document_after_commit(session, services, doc_id)


def iter_documents(session: Session, batch: int = 200, after_id: int = 0) -> Iterator[Document]:
    last = after_id
    while True:
        docs = session.scalars(
            select(Document).where(Document.id > last, Document.ocr_status.in_(("done", "partial")))
            .order_by(Document.id).limit(batch)
            .options(selectinload(Document.pages), selectinload(Document.customer),
                     selectinload(Document.business))
        ).all()
        if not docs:
            return
        yield from docs
        last = docs[-1].id
        session.expunge_all()


def reindex_all(session: Session, index: object, *, clear: bool = True, after_id: int = 0,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the index from the database; returns the number of pages written.

    Resumable: ``after_id`` continues an interrupted run without clearing (the
    ``progress(documents_done, last_document_id)`` callback reports where it is;
    pages are upserted by id, so redoing a document is harmless).
    """
    from search import SearchIndex

    assert isinstance(index, SearchIndex)
    if clear and not after_id:
        index.clear()
    pages = 0
    buf: list[PageDoc] = []
    n_done, last_id = 0, after_id
    for n_done, doc in enumerate(iter_documents(session, after_id=after_id), 1):
        last_id = doc.id
        buf.extend(page_docs(session, doc))
        if len(buf) >= 500:
            pages += index.index_pages(buf)
            buf.clear()
            if progress:  # only after the pages up to here are written
                progress(n_done, last_id)
    if buf:
        pages += index.index_pages(buf)
    if progress and n_done:
        progress(n_done, last_id)
    index.refresh()
    return pages
