"""The use cases that change a document's facts, type, state or location update its index
entry after commit by themselves: searched through the real tantivy index."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from dms.db.models import Business
from dms.db.session import session_scope
from dms.services import classification, lifecycle, ocr_flow, physical
from dms.services.users import create_user
from search import SearchQuery, SearchResult
from tests.search_service.conftest import Archive

NOW = dt.datetime(2024, 6, 1, 8, 0, tzinfo=dt.UTC)


def find(archive: Archive, text: str = "", **filters: str) -> SearchResult:
    ix = archive.services.index
    ix.refresh()
    return ix.search(SearchQuery(text=text, filters={k: [v] for k, v in filters.items()}))


def doc_ids(result: SearchResult) -> set[int]:
    return {h.document_id for h in result.hits}


def _business(s: object, business_no: str) -> Business:
    return lifecycle.get_business(s, business_no)  # type: ignore[arg-type]


def test_a_lifecycle_return_moves_every_document_of_the_item(archive: Archive) -> None:
    contract_b = archive.document_ids[2]  # YK2024000002, pending_review
    assert doc_ids(find(archive, state="pending_review")) == {contract_b}
    with session_scope(archive.services.sessions) as s:
        collector = create_user(s, "collector_b", "secret-pass", "collector", team_code="B")
        lifecycle.return_item(s, _business(s, "YK2024000002"), collector, "页面不清晰", NOW)
    assert find(archive, state="pending_review").total == 0
    assert contract_b in doc_ids(find(archive, state="pending_send"))


def test_digitised_after_ocr_reaches_the_other_documents_of_the_item(archive: Archive) -> None:
    first, second = archive.document_ids[:2]  # both of YK2024000001
    with session_scope(archive.services.sessions) as s:  # a new business step: back to add
        s.scalars(select(Business).where(Business.business_no == "YK2024000001")).one() \
            .archive_state = "pending_add"
    with session_scope(archive.services.sessions) as s:
        ocr_flow._mark_digitised(s, _business(s, "YK2024000001"))
    assert {first, second} <= doc_ids(find(archive, state="pending_send"))
    assert find(archive, state="archived").total == 0


def test_a_corrected_type_is_searchable(archive: Archive) -> None:
    doc_id = archive.document_ids[1]  # a YDSQS
    with session_scope(archive.services.sessions) as s:
        assert classification.confirm_type(s, archive.services, doc_id, "SFZM", actor="rev")
    assert doc_id not in doc_ids(find(archive, doc_type="YDSQS"))
    hit = find(archive, doc_type="SFZM").hits[0]
    assert hit.document_id == doc_id and hit.fields["doc_type"] == "SFZM"


def test_an_edited_fact_is_found_as_an_identifier(archive: Archive) -> None:
    doc_id = archive.document_ids[3]
    assert find(archive, "ZJGDHT2025000999").total == 0
    with session_scope(archive.services.sessions) as s:
        classification.set_fact(s, doc_id, "contract_no", "ZJGDHT2025000999", actor="rev")
    top = find(archive, "ZJGDHT2025000999")
    assert top.hits[0].document_id == doc_id
    assert "ZJGDHT2025000999" in top.hits[0].fields["identifiers"]
    with session_scope(archive.services.sessions) as s:  # and removing it removes it
        classification.set_fact(s, doc_id, "contract_no", "", actor="rev")
    assert find(archive, "ZJGDHT2025000999").total == 0


def test_the_paper_location_follows_volume_box_and_shelf(archive: Archive) -> None:
    doc_id = archive.document_ids[0]

    def location() -> str:
        hits = [h for h in find(archive, customer_no="3301000001").hits
                if h.document_id == doc_id]
        return str(hits[0].fields["location"])

    assert location() == ""
    with session_scope(archive.services.sessions) as s:
        archivist = create_user(s, "arch", "secret-pass", "archivist")
        physical.create_room(s, number=1, name="一号档案室", actor="arch", sections=2,
                             levels=2)
        box = physical.create_boxes(s, count=1, actor="arch")[0].code
        vol = physical.form_volume(s, actor="arch", business_no="YK2024000001").volume_no
    assert location() == vol
    with session_scope(archive.services.sessions) as s:
        physical.put_volume_in_box(s, volume_no=vol, box_code=box, user=archivist,
                                   checklist=archive.services.checklist, now=NOW)
    assert location() == f"{box} {vol}"
    with session_scope(archive.services.sessions) as s:
        physical.move_box(s, box_code=box, slot_code="R01-J01-A-01-1", user=archivist,
                          checklist=archive.services.checklist, now=NOW)
    assert location() == f"R01-J01-A-01-1 {box} {vol}"
