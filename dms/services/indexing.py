"""Keep the search index in step with the database.

The index is derived data: ``reindex_all`` rebuilds it from the database, so it
can be lost without losing anything.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dms.db.models import Business, Customer, Document, Team
from search import PageDoc

log = logging.getLogger(__name__)

# Facts whose values are exact-match identifiers in search.
IDENTIFIER_FACTS = ("contract_no", "id_number", "credit_code", "meter_no", "customer_no")


def page_docs(session: Session, document: Document) -> list[PageDoc]:
    customer: Customer = document.customer
    business: Business | None = document.business
    team = ""
    team_id = (business.team_id if business else None) or customer.team_id
    if team_id:
        t = session.get(Team, team_id)
        team = t.code if t else ""
    facts = document.facts or {}
    identifiers = [str(facts[k]) for k in IDENTIFIER_FACTS if facts.get(k)]
    identifiers += [customer.customer_no] + ([business.business_no] if business else [])
    return [
        PageDoc(
            page_id=f"{document.id}:{p.page_no}", document_id=document.id, page_no=p.page_no,
            text=p.text, customer_no=customer.customer_no, customer_name=customer.name,
            business_no=business.business_no if business else "",
            business_type=business.business_type if business else "",
            doc_type=document.doc_type or "", team=team,
            state=business.archive_state if business else "",
            date=document.created_at.date(), identifiers=sorted(set(identifiers)),
            title=document.title or document.source_name,
        )
        for p in document.pages if p.ocr_status == "done"
    ]


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


def iter_documents(session: Session, batch: int = 200) -> Iterator[Document]:
    last = 0
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


def reindex_all(session: Session, index: object, *, clear: bool = True,
                progress: Callable[[int], None] | None = None) -> int:
    from search import SearchIndex

    assert isinstance(index, SearchIndex)
    if clear:
        index.clear()
    pages = 0
    buf: list[PageDoc] = []
    for n, doc in enumerate(iter_documents(session), 1):
        buf.extend(page_docs(session, doc))
        if len(buf) >= 500:
            pages += index.index_pages(buf)
            buf.clear()
        if progress:
            progress(n)
    if buf:
        pages += index.index_pages(buf)
    index.refresh()
    return pages
