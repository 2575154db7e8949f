"""Regression tests of issue 16's scoping findings: each was open on the old main."""
from __future__ import annotations

from tests.web.conftest import Archive


def test_handler_cannot_open_another_teams_item_volume_or_box(archive: Archive) -> None:
    h = archive.as_("handler")
    own, other = archive.own, archive.other
    assert h.get(f"/archive/items/{own.business_no}").status_code == 200
    assert h.get(f"/archive/items/{other.business_no}").status_code == 403
    assert h.get(f"/physical/volumes/{own.volume_no}").status_code == 200
    assert h.get(f"/physical/volumes/{other.volume_no}").status_code == 403
    assert h.get(f"/physical/boxes/{other.box_code}").status_code == 403
    assert h.get(f"/api/physical/locate/{own.volume_no}").status_code == 200
    for code in (other.volume_no, other.box_code):
        assert h.get(f"/api/physical/locate/{code}").status_code == 403
    assert h.get(f"/api/physical/boxes/{other.box_code}/history").status_code == 403
    located = h.post("/physical/scan", data={"mode": "locate", "code": other.box_code})
    assert located.status_code == 403


def test_loan_lists_show_ones_own_loans_and_requests_stay_in_team(archive: Archive) -> None:
    h, arch = archive.as_("handler"), archive.as_("archivist")
    mine = h.get("/physical/loans").get_data(as_text=True)
    assert "w-handler" in mine and "w-handler-b" not in mine  # no other borrower's name
    assert "w-handler-b" in arch.get("/physical/loans").get_data(as_text=True)
    # Another team's volume: neither the form nor the API takes a request.
    res = h.post(f"/physical/volumes/{archive.other.volume_no}/loans", data={"reason": "dispute"})
    assert res.status_code == 403
    res = h.post("/api/physical/loans", json={"volume_no": archive.other.volume_no,
                                              "reason": "dispute"})
    assert res.status_code == 403
    # Cancelling someone else's loan is refused too.
    assert h.post(f"/api/physical/loans/{archive.other.loan_id}/cancel").status_code == 403


def test_station_web_account_reads_nothing_of_the_archive(archive: Archive) -> None:
    st = archive.as_("station")
    o = archive.own
    for url in ("/customers", f"/customers/{o.customer_no}", "/search?q=合同",
                "/api/v1/search?q=合同", f"/documents/{o.doc_id}", "/physical/loans",
                f"/api/physical/locate/{o.volume_no}", "/reports/", "/physical/"):
        assert st.get(url).status_code == 403, url
    assert st.post(f"/physical/volumes/{o.volume_no}/loans",
                   data={"reason": "dispute"}).status_code == 403
    assert st.get("/").status_code == 200  # an empty start page


def test_managers_get_reports_not_originals(archive: Archive) -> None:
    m = archive.as_("manager")
    o = archive.own
    assert m.get("/reports/").status_code == 200
    assert m.get(f"/customers/{o.customer_no}").status_code == 200
    for url in (f"/documents/{o.doc_id}", f"/documents/{o.doc_id}/original",
                f"/documents/{o.doc_id}/pages/1.png", "/search?q=合同"):
        assert m.get(url).status_code == 403, url
    # The documented way to an original: a reasoned loan request, approved by the archive.
    res = m.post(f"/physical/volumes/{o.volume_no}/loans", data={"reason": "audit"})
    assert res.status_code == 302


def test_dispute_lookup_by_id_number_is_a_post_and_leaves_no_number_in_urls(
        archive: Archive) -> None:
    lawyer = archive.as_("dispute")
    res = lawyer.post("/physical/dispute", data={"q": "370102199001013299"})
    # Both customers carry that ID number in the seed: a list, no number in any URL.
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and 'id="matches"' in page
    assert "?q=" not in page
    one = lawyer.post("/physical/dispute", data={"q": archive.other.customer_no})
    assert one.status_code == 302 and "370102" not in one.headers["Location"]
    # The GET form of the look-up no longer searches: a URL cannot carry the number.
    got = lawyer.get("/physical/dispute?q=370102199001013299").get_data(as_text=True)
    assert 'id="matches"' not in got
    # A handler's look-up stays within the team.
    h = archive.as_("handler")
    assert h.get(f"/physical/dispute?customer={archive.other.customer_no}").status_code == 403
    found = h.post("/physical/dispute", data={"q": archive.other.customer_no})
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and "没有找到结果" in text and "dispute-file" not in text
