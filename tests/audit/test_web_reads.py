"""Reads of personal data through the real app leave audit entries: who, what, whose,
when, from where; searches are stored masked; a refused read is recorded as denied; a read
that cannot be audited is not served."""
from __future__ import annotations

from sqlalchemy import text

from dms.db import audit
from dms.services.container import Services
from dms.web.app import create_app
from tests.audit.conftest import ID_NO, MOBILE, client, doc_id, entries
from tests.ingest.conftest import RecordingDispatcher

def test_every_read_of_personal_data_is_recorded(svc: Services) -> None:
    d = doc_id(svc)
    h = client(svc, "handler")
    for url in (f"/documents/{d}", f"/documents/{d}/original", f"/documents/{d}/pages/1.png",
                f"/documents/{d}/searchable.pdf", "/customers/3301000001",
                "/reports/gaps?format=csv&customer=3301000001", "/reports/gaps"):
        res = h.get(url, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert res.status_code == 200, (url, res.status_code)
        res.close()
    got = [(e.actor, e.action, e.entity, e.entity_id, e.customer_no, e.remote_addr)
           for e in entries(svc, actor="handler")]
    assert got == [
        ("handler", "document_view", "document", str(d), "3301000001", "10.1.2.3"),
        ("handler", "original_download", "document", str(d), "3301000001", "10.1.2.3"),
        ("handler", "page_image_view", "page", f"{d}/1", "3301000001", "10.1.2.3"),
        ("handler", "searchable_pdf_view", "document", str(d), "3301000001", "10.1.2.3"),
        ("handler", "customer_view", "customer", "3301000001", "3301000001", "10.1.2.3"),
        ("handler", "report_export", "gap_report", "csv", "3301000001", "10.1.2.3"),
        ("handler", "report_view", "gap_report", "html", "", "10.1.2.3"),
    ]
    # A dispute handler's look-up, an archivist's label print, a manager's download.
    client(svc, "lawyer").get("/physical/dispute?customer=3301000001")
    keeper = client(svc, "keeper")
    keeper.get("/physical/labels/boxes.pdf?codes=BX00000001")
    keeper.get("/physical/volumes/JZ3301000001-01")
    keeper.get("/customers?q=张三")
    keeper.get("/customers")
    client(svc, "manager").get(f"/documents/{d}/original").close()
    assert [(e.actor, e.action, e.entity, e.customer_no) for e in entries(svc)[-6:]] == [
        ("lawyer", "dispute_lookup", "customer", "3301000001"),
        ("keeper", "label_print", "boxes", "3301000001"),
        ("keeper", "volume_view", "volume", "3301000001"),
        ("keeper", "search", "customers", ""), ("keeper", "customer_list", "customers", ""),
        ("manager", "original_download", "document", "3301000001")]
    assert entries(svc, action="label_print")[0].data == {"codes": ["BX00000001"],
                                                          "customers": ["3301000001"]}
    with svc.sessions() as s:
        assert audit.verify(s).broken is None


def test_searches_are_stored_with_personal_numbers_masked(svc: Services) -> None:
    h = client(svc, "handler")
    assert h.get("/search").status_code == 200  # the empty form reads nothing
    assert entries(svc, action="search") == []
    for url in (f"/search?q=张三 {ID_NO} {MOBILE} 3301000001",
                f"/api/v1/search?q={MOBILE}&doc_type=GYDHT",
                f"/physical/dispute?q={ID_NO}"):
        assert h.get(url).status_code == 200, url
    (page, api) = entries(svc, action="search")
    assert page.data == {"q": "张三 1101**********002X 138****5678 3301000001"}
    assert api.data == {"q": "138****5678", "filters": {"doc_type": ["GYDHT"]}}
    (lookup,) = entries(svc, action="dispute_lookup")
    assert lookup.data == {"q": "1101**********002X"}
    stored = " ".join(str(e.data) for e in entries(svc))
    assert ID_NO not in stored and MOBILE not in stored


def test_refused_reads_are_recorded_as_denied_and_anonymous_ones_not_at_all(svc: Services
                                                                           ) -> None:
    d = doc_id(svc)
    assert client(svc, "other").get(f"/documents/{d}/original").status_code == 403
    (denied,) = entries(svc, actor="other")
    assert (denied.action, denied.customer_no, denied.data) == \
        ("original_download", "3301000001", {"denied": True})
    before = len(entries(svc))
    anonymous = create_app(svc.settings, dispatcher=RecordingDispatcher(),
                           services=svc).test_client()
    assert anonymous.get(f"/documents/{d}/original").status_code == 302  # to the login page
    assert anonymous.get("/api/v1/search?q=合同").status_code == 401
    assert len(entries(svc)) == before


def test_a_read_that_cannot_be_audited_is_not_served(svc: Services) -> None:
    d = doc_id(svc)
    h = client(svc, "handler")
    with svc.engine.begin() as conn:  # the chain head gone: no entry can be appended
        conn.execute(text("DELETE FROM audit_chain_head"))
    res = h.get(f"/documents/{d}/original")
    assert res.status_code == 503 and b"original" not in res.data
    assert "审计日志不可用" in res.get_data(as_text=True)
    assert entries(svc, actor="handler") == []


def test_locating_paper_and_the_review_queue_are_recorded(svc: Services) -> None:
    """Where a customer's volume lies, and the review queue (names and extracted facts), are
    reads of whose paper it is: both were served without a trace."""
    keeper = client(svc, "keeper")
    assert keeper.get("/api/physical/locate/JZ3301000001-01").status_code == 200
    assert keeper.get("/physical/boxes/BX00000001").status_code == 200
    assert client(svc, "handler").get("/review?page=2").status_code == 200
    got = [(e.actor, e.action, e.entity, e.entity_id, e.customer_no, e.data)
           for e in entries(svc)[-3:]]
    assert got == [
        ("keeper", "physical_locate", "volume", "JZ3301000001-01", "3301000001", {}),
        ("keeper", "physical_locate", "box", "BX00000001", "3301000001", {}),
        ("handler", "review_queue_view", "review_queue", "", "", {"page": "2"}),
    ]
