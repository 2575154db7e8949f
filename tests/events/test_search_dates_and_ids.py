"""Search files a document under its own date (signing date, contract start, a date on
its page), not its scan date; an identifier finds only the pages that carry it."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest

from dms.db.migrate import upgrade
from dms.db.models import Customer, Document, Page
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.indexing import reindex_all
from dms.settings import Settings
from search import SearchQuery

SCANNED = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
# (title, facts, pages)
DOCS = [
    ("signed", {"signed_date": "2020-05-18", "contract_no": "SDGDHT2020075456"},
     ["供用电合同 合同编号 SDGDHT2020075456", "第二页 违约责任", "第三页 签章"]),
    ("started", {"contract_start": "2021-07-01"}, ["供用电合同 有效期 五年"]),
    ("printed", {}, ["用电申请书 申请日期 2019 年 3 月 5 日"]),
    ("plain", {}, ["现场勘查工作单 无日期"]),
    ("future", {}, ["申请日期 2099年1月1日"]),  # a misread year is not the document's date
]


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    upgrade(settings.database_url)
    svc = build_services(settings)
    with session_scope(svc.sessions) as s:
        c = Customer(customer_no="3701000001", name="张三")
        s.add(c)
        for title, facts, texts in DOCS:
            sha = hashlib.sha256(title.encode()).hexdigest()
            d = Document(sha256=sha, customer=c, doc_type="GYDHT", title=title,
                         source_name=f"{title}.pdf", mime="application/pdf", size_bytes=1,
                         original_key=f"originals/{sha}", page_count=len(texts),
                         ocr_status="done", facts=facts, created_at=SCANNED)
            d.pages = [Page(page_no=i, image_key=f"p/{sha}/{i}", text=t, ocr_status="done")
                       for i, t in enumerate(texts, 1)]
            s.add(d)
    with session_scope(svc.sessions) as s:
        reindex_all(s, svc.index)
    yield svc
    svc.close()


def test_year_facet_and_date_filter_use_the_documents_own_date(services: Services) -> None:
    res = services.index.search(SearchQuery(text="", size=50))
    assert res.facets["year"] == {"2020": 3, "2021": 1, "2019": 1, "2026": 2}, res.facets
    in_2020 = services.index.search(SearchQuery(text="", size=50, date_from=dt.date(2020, 1, 1),
                                                date_to=dt.date(2020, 12, 31)))
    assert {h.page_no for h in in_2020.hits} == {1, 2, 3}


def test_an_identifier_finds_only_the_pages_that_carry_it(services: Services) -> None:
    res = services.index.search(SearchQuery(text="SDGDHT2020075456", size=50))
    assert [h.page_no for h in res.hits] == [1]
    # The customer number is the whole document's: every page.
    assert services.index.search(SearchQuery(text="3701000001", size=50)).total == 7
