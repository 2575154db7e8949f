"""The gap report's documents lacking required facts as a CSV download (issue 20): every
one the page counts, not only the newest 500 it shows, under the page's filter, teams and
masking, in the reader's language, audited like the gap report's own download."""
from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import itertools
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.models import AuditEvent, Business, Customer, Document
from dms.db.session import session_scope
from dms.services.container import Services
from dms.services.gap_report import GapFilter
from dms.services.missing_facts import count_missing_facts, documents_missing_facts
from dms.services.missing_facts_csv import missing_facts_csv
from dms.services.users import ensure_team
from tests.conftest import LoginAs
from tests.web.test_missing_facts import CONTRACT, _document, _listed, _page

URL = "/reports/gaps/missing-facts.csv"
HEADINGS_ZH = ["文档编号", "户号", "户名", "业务号", "资料代码", "资料名称", "缺少的信息",
               "到期日未识别", "上传时间"]
HEADINGS_EN = ["Document ID", "Customer no.", "Name", "Business no.", "Document code",
               "Document name", "Missing facts", "End date not recognised", "Uploaded"]
LOCAL_MINUTE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d[+-]\d\d:\d\d$")
PHONE = "13812345678"
_n = itertools.count(1)


def _many(svc: Services, team: str, count: int) -> list[int]:
    """``count`` contracts without number or end date, each of its own customer, at once."""
    with session_scope(svc.sessions) as s:
        t = ensure_team(s, team)
        docs = []
        for _ in range(count):
            n = next(_n)
            c = Customer(customer_no=f"44010{n:05d}", name=f"批量{n}", team_id=t.id)
            b = Business(business_no=f"PL2026{n:06d}", customer=c,
                         business_type="LV_RES_NEW", team_id=t.id)
            key = hashlib.sha256(f"bulk {n}".encode()).hexdigest()
            docs.append(Document(sha256=key, customer=c, business=b, doc_type="GYDHT",
                                 type_confidence=0.9, source_name=f"b{n}.pdf",
                                 mime="application/pdf", size_bytes=1,
                                 original_key=f"originals/{key}", ocr_status="done",
                                 facts={}))
        s.add_all(docs)
        s.flush()
        return [d.id for d in docs]


def _csv(client: FlaskClient, url: str = URL) -> tuple[list[str], list[list[str]]]:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")  # UTF-8 with a BOM, like the gap report's CSV
    heading, *rows = csv.reader(io.StringIO(text[1:]))
    return heading, rows


def _total(html: str) -> int:
    m = re.search(r'id="missing-facts-total">(\d+)<', html)
    assert m is not None
    return int(m.group(1))


def _customer_no(svc: Services, doc_id: int) -> str:
    with svc.sessions() as s:
        no = s.scalar(select(Customer.customer_no).join(Document).where(Document.id == doc_id))
        assert no is not None
        return no


def test_the_csv_lists_every_document_the_page_counts(web_services: Services,
                                                      login_as: LoginAs) -> None:
    bulk = _many(web_services, "YYB", 503)  # more than the page shows
    bare = _document(web_services, "YYB", "GYDHT", {})
    licence = _document(web_services, "YYB", "YYZZ", {})
    other = _document(web_services, "DKH", "DDXY", {"contract_end": "2027-01-31"})
    _document(web_services, "YYB", "GYDHT", CONTRACT)  # complete: not listed
    archivist = login_as("archivist")
    page = _page(archivist, "/reports/gaps")
    assert _total(page) == 506 and len(_listed(page)) == 500
    heading, rows = _csv(archivist)
    assert heading == HEADINGS_ZH
    ids = [int(r[0]) for r in rows]
    assert ids == sorted([*bulk, bare, licence, other], reverse=True)  # newest first
    assert set(_listed(page)) <= set(ids)
    by_id = {int(r[0]): r for r in rows}
    assert by_id[bare][1:] == [_customer_no(web_services, bare), by_id[bare][2],
                               by_id[bare][3], "GYDHT", "供用电合同", "合同编号、合同终止日期",
                               "是", by_id[bare][8]]
    assert by_id[licence][4:8] == ["YYZZ", by_id[licence][5], "统一社会信用代码", ""]
    assert by_id[other][6:8] == ["合同编号", ""]
    assert all(LOCAL_MINUTE.match(r[8]) for r in rows), rows[0]
    # The link beside the section's heading carries the page's filter.
    customer = _customer_no(web_services, bare)
    page = _page(archivist, f"/reports/gaps?customer={customer}&business_type=LV_RES_NEW")
    link = re.search(r'id="missing-facts-csv" href="([^"]+)"', page)
    assert link is not None and ">下载 CSV</a>" in page
    href = html_lib.unescape(link.group(1))
    assert href.startswith(URL + "?") and f"customer={customer}" in href \
        and "business_type=LV_RES_NEW" in href
    _, rows = _csv(archivist, href)
    assert [int(r[0]) for r in rows] == [bare] and _total(page) == 1


def test_another_teams_documents_stay_out_of_a_team_members_csv(web_services: Services,
                                                                 login_as: LoginAs) -> None:
    mine = _document(web_services, "YYB", "GYDHT", {})
    theirs = _document(web_services, "DKH", "GYDHT", {})
    collector = login_as("collector", "YYB")
    _, rows = _csv(collector)
    assert [int(r[0]) for r in rows] == [mine]
    assert _total(_page(collector, "/reports/gaps")) == 1
    r = collector.get(f"{URL}?team=DKH")
    assert r.status_code == 403 and r.mimetype == "text/html" and "team" in r.get_data(
        as_text=True)
    _, rows = _csv(login_as("manager"), f"{URL}?team=DKH")
    assert [int(r[0]) for r in rows] == [theirs]


def test_personal_data_is_masked_for_a_role_that_does_not_need_it(web_services: Services,
                                                                  login_as: LoginAs) -> None:
    doc = _document(web_services, "YYB", "GYDHT", {})
    with session_scope(web_services.sessions) as s:
        d = s.get(Document, doc)
        assert d is not None
        d.customer.name = f"李四（{PHONE}）"
    masked = "李四（138****5678）"
    for role, team, name in (("manager", None, masked), ("collector", "YYB", masked),
                             ("archivist", None, f"李四（{PHONE}）")):
        client = login_as(role, team)
        _, rows = _csv(client)
        assert rows[0][2] == name, role
        # as the page shows it
        assert name in _listed(_page(client, "/reports/gaps"))[doc][1], role


@pytest.mark.parametrize("query,field", [
    ("business_type=LV RES NEW", "business_type"),
    ("business_type=" + "A" * 33, "business_type"),
    ("customer=3301%00", "customer"),
    ("customer=" + "1" * 33, "customer"),
    ("team=YY%0AB", "team"),
    ("only_gaps=yes", "only_gaps"),
])
def test_a_bad_filter_is_a_4xx_naming_the_field(login_as: LoginAs, query: str,
                                                field: str) -> None:
    client = login_as("archivist")
    for url in (f"{URL}?{query}", f"{URL}?{query}&lang=en", f"/reports/gaps?{query}"):
        r = client.get(url)
        assert r.status_code == 400, (url, r.status_code)
        assert field in r.get_data(as_text=True), url
    r = client.get(f"{URL}?{query}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["field"] == field


def test_headings_and_names_in_english_under_an_english_ui(web_services: Services,
                                                           login_as: LoginAs) -> None:
    bare = _document(web_services, "YYB", "GYDHT", {})
    client = login_as("archivist")
    heading, rows = _csv(client, f"{URL}?lang=en")
    assert heading == HEADINGS_EN
    assert [int(r[0]) for r in rows] == [bare]
    assert rows[0][6:8] == ["Contract no., Contract end", "yes"]
    page = _page(client, "/reports/gaps?lang=en")
    assert ">Download CSV</a>" in page and "lang=en" in page.split('id="missing-facts-csv"')[1]
    assert client.get("/lang/en").status_code in (302, 303)  # the user's choice, remembered
    heading, _ = _csv(client)
    assert heading == HEADINGS_EN


def test_every_download_is_audited_like_the_gap_reports(web_services: Services,
                                                        login_as: LoginAs) -> None:
    doc = _document(web_services, "YYB", "GYDHT", {})
    customer = _customer_no(web_services, doc)
    client = login_as("collector", "YYB", username="lead")
    client.get(f"{URL}?customer={customer}&team=YYB",
               environ_base={"REMOTE_ADDR": "10.1.2.3"}).close()
    client.get(f"{URL}?team=DKH").close()  # refused: recorded as denied
    with web_services.sessions() as s:
        got = [(e.actor, e.action, e.entity, e.entity_id, e.customer_no, e.remote_addr,
                e.data) for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "lead")
                                           .order_by(AuditEvent.seq))]
    assert [g for g in got if g[1] != "login"] == [
        ("lead", "report_export", "missing_facts", "csv", customer, "10.1.2.3",
         {"team": "YYB"}),
        ("lead", "report_export", "missing_facts", "csv", "", "127.0.0.1",
         {"team": "DKH", "denied": True})]


def test_service_csv_streams_every_document_in_chunks(any_db_services: Services) -> None:
    """On SQLite and PostgreSQL: every lacking document once, newest first, in several
    chunks (the rows are walked in batches, not loaded at once), with the same cells.
    2000 of them: a chunk's worth of rows exactly, whose last chunk once came twice."""
    svc = any_db_services
    bulk = _many(svc, "YYB", 1999)
    other = _document(svc, "DKH", "SFZM", {})
    _document(svc, "YYB", "GYDHT", CONTRACT)
    with session_scope(svc.sessions) as s:
        chunks = list(missing_facts_csv(documents_missing_facts(s, svc.checklist),
                                        svc.checklist, "zh_CN"))
        assert count_missing_facts(s, svc.checklist) == 2000
        team = list(missing_facts_csv(
            documents_missing_facts(s, svc.checklist, GapFilter(teams=("DKH",))),
            svc.checklist, "en"))
    assert len(chunks) >= 3
    heading, *rows = csv.reader(io.StringIO("".join(chunks)[1:]))
    assert heading == HEADINGS_ZH
    assert [int(r[0]) for r in rows] == [other, *sorted(bulk, reverse=True)]
    assert rows[0][4:8] == ["SFZM", rows[0][5], "身份证号码", ""]
    assert rows[1][6:8] == ["合同编号、合同终止日期", "是"]
    assert all(LOCAL_MINUTE.match(r[8]) for r in rows)
    heading, *rows = csv.reader(io.StringIO("".join(team)[1:]))
    assert heading == HEADINGS_EN and [int(r[0]) for r in rows] == [other]
