"""A document's index entry follows every change of its facts, type and state."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dms.db.models import Business, Customer, Document
from dms.db.session import session_scope
from dms.services.indexing import (
    reindex_business_after_commit, reindex_customer_after_commit, reindex_document_after_commit,
)
from search import SearchQuery, SearchResult
from tests.search_service.conftest import Archive


def find(archive: Archive, text: str = "", **filters: str) -> SearchResult:
    ix = archive.services.index
    ix.refresh()
    return ix.search(SearchQuery(text=text, filters={k: [v] for k, v in filters.items()}))


def doc_ids(result: SearchResult) -> set[int]:
    return {h.document_id for h in result.hits}


def test_type_and_facts_change(archive: Archive) -> None:
    doc_id = archive.document_ids[1]  # a YDSQS without facts
    assert doc_id in doc_ids(find(archive, doc_type="YDSQS"))
    with session_scope(archive.services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.doc_type = "SFZM"
        doc.facts = {"id_number": "330106199001011234"}
        reindex_document_after_commit(s, archive.services, doc_id)
        reindex_document_after_commit(s, archive.services, doc_id)  # once per transaction
    assert doc_id not in doc_ids(find(archive, doc_type="YDSQS"))
    assert doc_id in doc_ids(find(archive, doc_type="SFZM"))
    top = find(archive, "330106199001011234")
    assert top.hits[0].document_id == doc_id and top.hits[0].fields["doc_type"] == "SFZM"


def test_state_change_of_a_business_reaches_all_its_documents(archive: Archive) -> None:
    with session_scope(archive.services.sessions) as s:
        b = s.scalars(select(Business).where(Business.business_no == "YK2024000001")).one()
        b.archive_state = "pending_transfer"
        reindex_business_after_commit(s, archive.services, b.id)
    moved = doc_ids(find(archive, state="pending_transfer"))
    assert moved == set(archive.document_ids[:2])
    assert find(archive, "合同").facets["state"] == {"pending_transfer": 1, "pending_review": 1}


def test_customer_change(archive: Archive) -> None:
    with session_scope(archive.services.sessions) as s:
        c = s.scalars(select(Customer).where(Customer.customer_no == "3301000003")).one()
        c.name = "赵六"
        reindex_customer_after_commit(s, archive.services, c.id)
    assert doc_ids(find(archive, "赵六")) == {archive.document_ids[3]}


def test_nothing_changes_when_the_transaction_rolls_back(archive: Archive) -> None:
    doc_id = archive.document_ids[1]
    with pytest.raises(RuntimeError):
        with session_scope(archive.services.sessions) as s:
            doc = s.get(Document, doc_id)
            assert doc is not None
            doc.doc_type = "SFZM"
            reindex_document_after_commit(s, archive.services, doc_id)
            s.flush()
            raise RuntimeError("boom")
    assert doc_id in doc_ids(find(archive, doc_type="YDSQS"))
    # and the next transaction of a reused session still schedules its own reindex
    with archive.services.sessions() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.doc_type = "CQZM"
        reindex_document_after_commit(s, archive.services, doc_id)
        s.commit()
    assert doc_id in doc_ids(find(archive, doc_type="CQZM"))
