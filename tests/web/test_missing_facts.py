"""A document lacking a fact its type requires says so on its page, and the gap report lists
it (issue 20: contracts whose number or end date was not read raised no expiry warning)."""
from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

from flask.testing import FlaskClient

from dms.db.models import Business, Customer, Document
from dms.db.session import session_scope
from dms.services import classification
from dms.services.container import Services
from dms.services.gap_report import GapFilter
from dms.services.missing_facts import count_missing_facts, documents_missing_facts
from dms.services.users import ensure_team
from tests.conftest import LoginAs

_n = itertools.count(1)
CONTRACT = {"contract_no": "GD-2024-0001", "contract_end": "2027-01-31"}
_ROW = re.compile(r'<tr data-document="(\d+)" data-missing="([^"]*)">(.*?)</tr>', re.S)


def _document(svc: Services, team: str, doc_type: str | None, facts: dict[str, Any]) -> int:
    """A classified document of its own customer and business in ``team`` (no OCR: the
    type and the accepted facts are what the classifier would have stored)."""
    n = next(_n)
    with session_scope(svc.sessions) as s:
        t = ensure_team(s, team)
        c = Customer(customer_no=f"33010{n:05d}", name=f"客户{n}", team_id=t.id)
        b = Business(business_no=f"YK2026{n:06d}", customer=c, business_type="LV_RES_NEW",
                     team_id=t.id)
        key = hashlib.sha256(f"doc {n}".encode()).hexdigest()
        d = Document(sha256=key, customer=c, business=b, doc_type=doc_type, type_confidence=0.9,
                     source_name=f"{n}.pdf", mime="application/pdf", size_bytes=1,
                     original_key=f"originals/{key}", ocr_status="done", facts=facts)
        s.add_all([c, b, d])
        s.flush()
        return d.id


def _page(client: FlaskClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def _listed(html: str) -> dict[int, tuple[str, str]]:
    """The gap report's missing-facts rows: document id → (missing codes, row HTML)."""
    table = html.split('id="missing-facts"', 1)
    return {int(m.group(1)): (m.group(2), m.group(3))
            for m in _ROW.finditer(table[1] if len(table) > 1 else "")}


def test_document_page_names_the_missing_facts(web_services: Services,
                                               login_as: LoginAs) -> None:
    bare = _document(web_services, "YYB", "GYDHT", {})
    complete = _document(web_services, "YYB", "GYDHT", CONTRACT)
    id_card = _document(web_services, "YYB", "SFZM", {"name": "张三"})
    untyped = _document(web_services, "YYB", None, {})
    client = login_as("archivist")
    html = _page(client, f"/documents/{bare}")
    assert 'id="missing-facts"' in html
    assert "缺少必备信息：合同编号、合同终止日期" in html
    assert 'id="end-date-unknown"' in html and "到期日未识别" in html
    english = _page(client, f"/documents/{bare}?lang=en")
    assert "Missing required facts: Contract no., Contract end" in english
    assert "End date not recognised" in english
    html = _page(client, f"/documents/{id_card}")
    assert "缺少必备信息：身份证号码" in html and 'id="end-date-unknown"' not in html
    for doc_id in (complete, untyped):
        assert 'id="missing-facts"' not in _page(client, f"/documents/{doc_id}")


def test_customer_page_tags_the_document_lacking_a_fact(web_services: Services,
                                                        login_as: LoginAs) -> None:
    lacking = _document(web_services, "YYB", "GYDHT", {"contract_no": "GD-2024-0003"})
    with session_scope(web_services.sessions) as s:
        doc = s.get(Document, lacking)
        assert doc is not None
        customer_no = doc.customer.customer_no
    html = _page(login_as("archivist"), f"/customers/{customer_no}")
    assert f'<span class="tag warn missing-facts" data-document="{lacking}">' \
        '缺少必备信息：合同终止日期</span>' in html


def test_entering_the_missing_end_date_clears_the_notice(web_services: Services,
                                                         login_as: LoginAs) -> None:
    doc_id = _document(web_services, "YYB", "GYDHT", {"contract_no": "GD-2024-0002"})
    client = login_as("archivist")
    html = _page(client, f"/documents/{doc_id}")
    assert "缺少必备信息：合同终止日期" in html
    assert _listed(_page(client, "/reports/gaps"))[doc_id][0] == "contract_end"
    with session_scope(web_services.sessions) as s:
        classification.set_fact(s, doc_id, "contract_end", "2027-06-30", actor="archivist")
    assert 'id="missing-facts"' not in _page(client, f"/documents/{doc_id}")
    assert doc_id not in _listed(_page(client, "/reports/gaps"))


def test_gap_report_lists_documents_lacking_required_facts(web_services: Services,
                                                           login_as: LoginAs) -> None:
    bare = _document(web_services, "YYB", "GYDHT", {})
    no_number = _document(web_services, "YYB", "DDXY", {"contract_end": "2027-01-31"})
    licence = _document(web_services, "YYB", "YYZZ", {})
    complete = _document(web_services, "YYB", "GYDHT", CONTRACT)
    other_team = _document(web_services, "DKH", "GYDHT", {"contract_no": "GD-9"})
    html = _page(login_as("archivist"), "/reports/gaps")
    rows = _listed(html)
    assert set(rows) == {bare, no_number, licence, other_team}
    assert complete not in rows
    assert rows[bare][0] == "contract_no contract_end"
    assert "合同编号、合同终止日期" in rows[bare][1] and "到期日未识别" in rows[bare][1]
    assert rows[no_number][0] == "contract_no" and "到期日未识别" not in rows[no_number][1]
    assert rows[licence][0] == "credit_code" and "统一社会信用代码" in rows[licence][1]
    assert 'id="missing-facts-total">4<' in html
    # a team's collector sees their team's documents only, like the rest of the report
    mine = _listed(_page(login_as("collector", "YYB"), "/reports/gaps"))
    assert set(mine) == {bare, no_number, licence}
    english = _page(login_as("archivist"), "/reports/gaps?lang=en")
    assert "Documents missing required facts" in english
    assert "End date not recognised" in english


def test_service_list_and_count_agree_and_follow_the_filter(any_db_services: Services
                                                            ) -> None:
    web_services = any_db_services
    a = _document(web_services, "YYB", "GYDHT", {"contract_no": " ", "contract_end": ""})
    _document(web_services, "YYB", "GYDHT", CONTRACT)
    b = _document(web_services, "DKH", "SFZM", {})
    checklist = web_services.checklist
    with session_scope(web_services.sessions) as s:
        everyone = list(documents_missing_facts(s, checklist))
        assert [r["document_id"] for r in everyone] == [b, a]  # newest first
        assert everyone[1]["missing"] == ["contract_no", "contract_end"]
        assert everyone[1]["end_date_unknown"] and not everyone[0]["end_date_unknown"]
        assert count_missing_facts(s, checklist) == 2
        team_b = GapFilter(teams=("DKH",))
        assert [r["document_id"] for r in documents_missing_facts(s, checklist, team_b)] == [b]
        assert count_missing_facts(s, checklist, team_b) == 1
        one = GapFilter(customer_no=everyone[1]["customer_no"])
        assert [r["document_id"] for r in documents_missing_facts(s, checklist, one)] == [a]
