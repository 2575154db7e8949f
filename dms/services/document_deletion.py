"""Delete a document from the archive: its rows, its search entries, its derived files.

The original scan stays in the object store (content-addressed by SHA-256, it is the
evidence; removing it would be a separate, deliberate purge). What OCR derived from
it — page images, per-page PDFs and word boxes, the searchable PDF — is deleted after
commit; so are the index entries, via the one after-commit reindex path.
"""
from __future__ import annotations

import logging
from functools import partial

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import Base, Document
from dms.db.session import after_commit
from dms.errors import NotFoundError
from dms.services.container import Services
from dms.services.indexing import reindex_document_after_commit
from dms.services.page_view import view_keys

log = logging.getLogger(__name__)


def _derived_keys(doc: Document) -> list[str]:
    keys = [doc.searchable_pdf_key] if doc.searchable_pdf_key else []
    for p in doc.pages:
        keys += [k for k in (p.image_key, p.words_key, p.page_pdf_key) if k]
        keys += view_keys(doc.sha256, p.page_no)  # the viewer's cached page images
    return [k for k in keys if k != doc.original_key]


def _delete_objects(services: Services, keys: list[str]) -> None:
    for key in keys:
        try:
            services.store.delete(key)
        except Exception:  # a leftover derived file is harmless; the rows are gone
            log.warning("could not delete derived object %s", key, exc_info=True)


def delete_document(session: Session, services: Services, document_id: int, *,
                    actor: str, reason: str = "") -> None:
    """Remove the document and every row that refers to it, in ``session``'s transaction.

    Rows of other tables that point at the document (found through the schema's foreign
    keys, so tables added later are covered) are deleted, or unlinked where the column
    is nullable (an ingest record keeps its history without the document).
    """
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFoundError(f"document {document_id} does not exist")
    keys = _derived_keys(doc)
    data = {"sha256": doc.sha256, "original_key": doc.original_key,
            "customer_id": doc.customer_id, "pages": len(doc.pages)}
    documents = Base.metadata.tables["documents"]
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not documents or table is documents:
                continue
            col = fk.parent
            if col.nullable:
                session.execute(update(table).where(col == document_id).values({col.name: None}))
            else:
                session.execute(delete(table).where(col == document_id))
    session.expunge(doc)  # its pages were deleted above; do not let the ORM cascade again
    session.execute(delete(documents).where(documents.c.id == document_id))
    audit.record(session, actor=actor, action="document_deleted", entity="document",
                 entity_id=document_id, reason=reason, data=data)
    reindex_document_after_commit(session, services, document_id)  # gone -> removed
    after_commit(session, partial(_delete_objects, services, keys))
