"""The search page and API through Flask: permissions, filters kept, facets, more-like-this."""
from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask.testing import FlaskClient

from dms.db.session import session_scope
from dms.services.users import create_user
from dms.web import create_app
from tests.search_service.conftest import Archive

PASSWORD = "search-pass-1"


@pytest.fixture
def client(archive: Archive) -> Iterator[FlaskClient]:
    with session_scope(archive.services.sessions) as s:
        create_user(s, "ha", PASSWORD, "handler", team_code="A")
        create_user(s, "hb", PASSWORD, "handler", team_code="B")
        create_user(s, "boss", PASSWORD, "admin")
    app = create_app(archive.settings, services=archive.services)
    app.config["TESTING"] = True
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    with app.test_client() as c:
        yield c


def login(client: FlaskClient, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.data


def api(client: FlaskClient, **params: str) -> dict:  # type: ignore[type-arg]
    r = client.get("/api/v1/search", query_string=params)
    assert r.status_code == 200, r.data
    return r.get_json()  # type: ignore[no-any-return]


def test_handler_of_team_a_sees_only_team_a(client: FlaskClient, archive: Archive) -> None:
    login(client, "ha")
    out = api(client, q="合同")
    assert out["total"] == 1
    assert {h["fields"]["team"] for h in out["hits"]} == {"A"}
    assert out["facets"]["team"] == {"A": 1}  # facet counts respect permissions too
    assert api(client, q="ZJGDHT2023000777")["total"] == 0  # team B's contract
    assert api(client, q="合同", team="B")["total"] == 0  # asking for B does not help


def test_admin_sees_every_team(client: FlaskClient) -> None:
    login(client, "boss")
    out = api(client, q="合同")
    assert {h["fields"]["team"] for h in out["hits"]} == {"A", "B"}


def test_api_needs_login(client: FlaskClient) -> None:
    assert client.get("/api/v1/search?q=合同").status_code == 401


def links(html: str, css_class: str) -> list[str]:
    return [unescape(m) for m in re.findall(rf'class="{css_class}" href="([^"]+)"', html)]


def test_page_keeps_filters_dates_and_sort_in_every_link(client: FlaskClient) -> None:
    login(client, "boss")
    r = client.get("/search", query_string={"q": "用电地址", "size": "1", "sort": "date_desc",
                                            "from": "2023-01-01", "to": "2024-12-31",
                                            "doc_type": "GYDHT"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="result-count"' in html and html.count('class="hit"') == 1
    for label in ("文档类型", "业务类型", "状态", "班组", "年份"):
        assert f"<h3>{label}</h3>" in html
    nxt = re.search(r'rel="next" href="([^"]+)"', html)
    assert nxt is not None
    url = unescape(nxt.group(1))
    for part in ("q=%E7%94%A8%E7%94%B5%E5%9C%B0%E5%9D%80", "sort=date_desc", "from=2023-01-01",
                 "to=2024-12-31", "doc_type=GYDHT", "page=2", "size=1"):
        assert part in url, url
    page2 = client.get("/search" + url).get_data(as_text=True)
    assert page2.count('class="hit"') == 1 and 'value="date_desc" selected' in page2
    # a facet click adds its filter to the ones already there
    facet = next(u for u in links(html, "facet-link") if "business_type=" in u)
    assert "doc_type=GYDHT" in facet and "from=2023-01-01" in facet and "page=" not in facet
    # removing the active filter keeps the rest
    removal = links(html, "active-filter")
    assert len(removal) == 1 and "doc_type" not in removal[0] and "sort=date_desc" in removal[0]


def test_date_range_filters(client: FlaskClient) -> None:
    login(client, "boss")
    # documents are dated 2024-01-01 .. 2024-04-01 (one month apart)
    assert api(client, q="合同", **{"from": "2024-03-01"})["total"] == 1
    assert api(client, q="合同", to="2024-01-31")["total"] == 1
    assert client.get("/api/v1/search?q=x&from=yesterday").status_code == 400


def test_more_like_this(client: FlaskClient, archive: Archive) -> None:
    login(client, "boss")
    html = client.get("/search?q=合同").get_data(as_text=True)
    mlt = links(html, "more-like-this")
    assert mlt and "/search/similar/" in mlt[0]
    r = client.get(f"/search/similar/{archive.document_ids[0]}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="result-count"' in page
    assert f"/documents/{archive.document_ids[2]}" in page  # the other contract is similar
    assert f'href="/documents/{archive.document_ids[0]}?' not in page  # never itself


def test_more_like_this_respects_teams(client: FlaskClient, archive: Archive) -> None:
    login(client, "ha")
    assert client.get(f"/search/similar/{archive.document_ids[2]}").status_code == 403
    page = client.get(f"/search/similar/{archive.document_ids[0]}").get_data(as_text=True)
    assert f"/documents/{archive.document_ids[2]}" not in page  # team B's contract
