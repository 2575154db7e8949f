"""Pins the exact request bodies the Elasticsearch backend sends (no server here).

These are pure functions; the behaviour on a real server is covered by
TestElasticsearchIndex in test_index_contract.py when DMS_ES_URL is set.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from dms.errors import QueryError, SearchError
from search.base import PageDoc, SearchQuery
from search.es_index import bulk_with_backoff, parse_search_response
from search.es_requests import (
    IDENTIFIER_BOOST,
    build_alias_swap,
    build_bulk_actions,
    build_index_body,
    build_more_like_this_body,
    build_search_body,
    next_index_version,
)

TEXT_FIELDS = ["text", "title", "customer_name"]
AGGS = {f: {"terms": {"field": f, "size": 100}}
        for f in ("doc_type", "business_type", "state", "team", "year")}


def phrase(text: str) -> dict[str, Any]:
    return {"multi_match": {"query": text, "type": "phrase", "fields": TEXT_FIELDS}}


def test_index_body_mapping() -> None:
    body = build_index_body()
    assert body["settings"]["analysis"]["analyzer"]["dms_text"] == {
        "type": "custom", "tokenizer": "standard", "filter": ["cjk_width", "lowercase"]}
    props = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    assert props["text"] == {"type": "text", "analyzer": "dms_text",
                             "fields": {"bigram": {"type": "text", "analyzer": "cjk"}}}
    assert props["title"] == props["customer_name"] == {"type": "text", "analyzer": "dms_text"}
    for f in ("page_id", "customer_no", "business_no", "business_type", "doc_type", "team",
              "state", "identifiers"):
        assert props[f] == {"type": "keyword"}, f
    assert props["date"] == {"type": "date", "format": "strict_date"}
    assert props["year"] == {"type": "integer"}
    assert props["document_id"] == {"type": "long"}
    assert props["page"] == {"type": "object", "enabled": False}


def test_bulk_actions_upsert_by_page_id_with_normalised_copies() -> None:
    page = PageDoc("7:2", 7, 2, "電費 ＡＢＣ", " 33０1 ", customer_name="張三", team="A",
                   date=dt.date(2024, 2, 29), identifiers=["gdht-1", " "], title="")
    ops = build_bulk_actions([page], "dms-pages-v3")
    assert len(ops) == 2
    assert ops[0] == {"index": {"_index": "dms-pages-v3", "_id": "7:2"}}
    doc = ops[1]
    assert doc["text"] == "电费 ABC"  # Simplified + half-width, for indexing
    assert doc["customer_name"] == "张三"
    assert doc["customer_no"] == "3301"
    assert doc["identifiers"] == ["GDHT-1"]
    assert doc["date"] == "2024-02-29" and doc["year"] == 2024
    assert doc["doc_type"] is None and doc["team"] == "A"
    assert doc["page"]["text"] == "電費 ＡＢＣ"  # original, for snippets
    assert doc["page"]["customer_no"] == " 33０1 "
    assert set(doc) == {"page_id", "document_id", "page_no", "text", "title", "customer_name",
                        "customer_no", "business_no", "business_type", "doc_type", "team",
                        "state", "identifiers", "date", "year", "page",
                        "text_lj", "title_lj", "customer_name_lj"}
    assert doc["text_lj"] == "abc"  # Latin runs de-spaced (search/latin.py)


def test_search_body_words_phrases_or_and_exclusion() -> None:
    body = build_search_body(SearchQuery(text='電費 "供用电 合同" 增容 OR 销户 -草稿'))
    assert body == {
        "query": {"bool": {
            "must": [
                phrase("电费"),
                phrase("供用电 合同"),
                {"bool": {"should": [phrase("增容"), phrase("销户")],
                          "minimum_should_match": 1}},
            ],
            "must_not": [phrase("草稿")],
        }},
        "from": 0, "size": 20,
        "sort": [{"_score": {"order": "desc"}}, {"page_id": {"order": "asc"}}],
        "track_total_hits": True,
        "_source": ["page"],
        "aggs": AGGS,
    }


def test_search_body_identifier_is_boosted_exact_match() -> None:
    body = build_search_body(SearchQuery(text="gdht-2024-000123", facets=False))
    assert "aggs" not in body
    assert body["query"] == {"bool": {"must": [{"bool": {"should": [
        phrase("gdht-2024-000123"),
        {"term": {"identifiers": {"value": "GDHT-2024-000123", "boost": IDENTIFIER_BOOST}}},
        {"term": {"customer_no": {"value": "GDHT-2024-000123", "boost": IDENTIFIER_BOOST}}},
        {"term": {"business_no": {"value": "GDHT-2024-000123", "boost": IDENTIFIER_BOOST}}},
    ], "minimum_should_match": 1}}]}}


def test_search_body_filters_dates_teams_paging_sort() -> None:
    q = SearchQuery(text="合同 户号:3301234567 year:2024",
                    filters={"doc_type": ["合同", "协议"], "year": ["2023"], "state": []},
                    date_from=dt.date(2023, 1, 1), date_to=dt.date(2024, 12, 31),
                    sort="date_asc", page=3, size=10, allowed_teams=["A", "B"])
    body = build_search_body(q)
    assert body["query"]["bool"]["must"] == [
        phrase("合同"), {"term": {"customer_no": "3301234567"}}, {"term": {"year": 2024}}]
    assert body["query"]["bool"]["filter"] == [
        {"terms": {"doc_type": ["合同", "协议"]}},
        {"terms": {"year": [2023]}},
        {"range": {"date": {"gte": "2023-01-01", "lte": "2024-12-31"}}},
        {"terms": {"team": ["A", "B"]}},
    ]
    assert (body["from"], body["size"]) == (20, 10)
    assert body["sort"] == [{"date": {"order": "asc", "missing": "_last"}},
                            {"page_id": {"order": "asc"}}]


def test_search_body_empty_query_is_match_all_newest_first() -> None:
    body = build_search_body(SearchQuery())
    assert body["query"] == {"match_all": {}}
    assert body["sort"][0] == {"date": {"order": "desc", "missing": "_last"}}


def test_search_body_no_permitted_team_matches_nothing() -> None:
    body = build_search_body(SearchQuery(allowed_teams=[]))
    assert body["query"] == {"bool": {"filter": [{"terms": {"team": []}}]}}


def test_search_body_errors() -> None:
    with pytest.raises(QueryError, match="unbalanced"):
        build_search_body(SearchQuery(text='"合同'))
    with pytest.raises(QueryError, match="unknown filter"):
        build_search_body(SearchQuery(filters={"colour": ["red"]}))
    with pytest.raises(QueryError, match="year"):
        build_search_body(SearchQuery(text="year:abc"))


def test_more_like_this_body() -> None:
    body = build_more_like_this_body("供用電合同", 5, 3)
    assert body == {
        "query": {"bool": {
            "must": [{"more_like_this": {"fields": ["text.bigram"], "like": "供用电合同",
                                         "min_term_freq": 1, "min_doc_freq": 1,
                                         "max_query_terms": 64}}],
            "must_not": [{"term": {"document_id": 5}}],
        }},
        "collapse": {"field": "document_id"},
        "size": 3,
        "_source": ["page"],
    }


def test_alias_versions_and_swap() -> None:
    assert next_index_version("dms-pages", []) == 1
    assert next_index_version("dms-pages", ["dms-pages-v1", "dms-pages-v12",
                                            "dms-pages-old", "other-v99"]) == 13
    assert build_alias_swap("dms-pages", ["dms-pages-v1"], "dms-pages-v2") == {"actions": [
        {"remove": {"index": "dms-pages-v1", "alias": "dms-pages"}},
        {"add": {"index": "dms-pages-v2", "alias": "dms-pages", "is_write_index": True}},
    ]}


def test_parse_search_response() -> None:
    page = PageDoc("3:1", 3, 1, "電費 <b>", "1", doc_type="发票", date=dt.date(2022, 1, 10))
    src = build_bulk_actions([page], "i")[1]
    resp = {"hits": {"total": {"value": 42, "relation": "eq"},
                     "hits": [{"_score": 1.5, "_source": {"page": src["page"]}}]},
            "aggregations": {"year": {"buckets": [{"key": 2022, "doc_count": 42}]}}}
    r = parse_search_response(resp, [["电", "费"]], by_date=False, took_ms=1.0)
    assert r.total == 42
    assert r.facets == {"year": {"2022": 42}}
    hit = r.hits[0]
    assert (hit.document_id, hit.page_no, hit.page_id, hit.score) == (3, 1, "3:1", 1.5)
    assert hit.snippet == "<mark>電費</mark> &lt;b&gt;"
    assert hit.fields["doc_type"] == "发票" and hit.fields["date"] == "2022-01-10"


# --- bulk retry/backoff, with real elasticsearch exceptions and callables ------------
def api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(),
                           duration=0.0, node=NodeConfig("http", "localhost", 9200))
    return ApiError("rejected", meta=meta, body={})


def item(status: int, _id: str = "x") -> dict[str, Any]:
    return {"index": {"_id": _id, "status": status,
                      **({"error": {"type": "boom"}} if status >= 300 else {})}}


def ops(n: int) -> list[dict[str, Any]]:
    return build_bulk_actions([PageDoc(f"{i}:1", i, 1, "t", "c") for i in range(n)], "i")


def test_bulk_retries_whole_request_on_429_with_exponential_backoff() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(len(batch))
        if len(calls) < 3:
            raise api_error(429)
        return {"items": [item(201) for _ in range(len(batch) // 2)]}

    assert bulk_with_backoff(send, ops(3), initial_backoff=0.5, sleep=sleeps.append) == 3
    assert calls == [6, 6, 6]
    assert sleeps == [0.5, 1.0]


def test_bulk_retries_only_rejected_items() -> None:
    sent: list[list[str]] = []

    def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
        page_ids = [op["index"]["_id"] for op in batch[0::2]]
        sent.append(page_ids)
        if len(sent) == 1:
            return {"errors": True, "items": [item(201), item(429), item(200)]}
        return {"items": [item(201) for _ in page_ids]}

    assert bulk_with_backoff(send, ops(3), sleep=lambda s: None) == 3
    assert sent == [["0:1", "1:1", "2:1"], ["1:1"]]


def test_bulk_gives_up_after_max_retries() -> None:
    def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
        raise api_error(429)

    with pytest.raises(ApiError):
        bulk_with_backoff(send, ops(1), max_retries=2, sleep=lambda s: None)

    def send_items(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {"errors": True, "items": [item(429)]}

    with pytest.raises(SearchError, match="after 2 retries"):
        bulk_with_backoff(send_items, ops(1), max_retries=2, sleep=lambda s: None)


def test_bulk_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(1)
        raise api_error(400)

    with pytest.raises(ApiError):
        bulk_with_backoff(send, ops(1), sleep=lambda s: None)
    assert calls == [1]

    def send_items(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {"errors": True, "items": [item(201, "0:1"), item(400, "1:1")]}

    with pytest.raises(SearchError, match="1:1"):
        bulk_with_backoff(send_items, ops(2), sleep=lambda s: None)
