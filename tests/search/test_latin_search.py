"""A Latin phrase is found whether or not OCR kept its word spaces, on the embedded index
and in the bodies sent to Elasticsearch; identifiers stay exact.

On main, ``Power Supply Contract`` found only the page that reads it with its spaces: the
pages read "POWERSUPPLYCONTRACT" and "POWER SUPPLYCONTRACT" carry none of its words.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from search.analysis import spaced_tokens
from search.base import PageDoc, SearchQuery
from search.es_requests import build_bulk_actions, build_index_body, build_search_body
from search.latin import joined_query, latin_grams, latin_runs, query_grams
from search.tantivy_index import TantivyIndex

PAGES = {
    "1:1": "供用电合同 POWERSUPPLYCONTRACT 合同编号 SDGDHT2020075456",
    "2:1": "高压供用电合同\nPOWER SUPPLYCONTRACT",
    "3:1": "Power Supply Contract 供用电合同",
    "4:1": "power 供电 supply 合同 contract",  # the words apart, Chinese between them
    "5:1": "SUPPLY CONTRACT 附件",
    "6:1": "powersupply 2024 contract",  # a number between: two runs
    "7:1": "用电申请 Contractor SDGDHT 合同",
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> TantivyIndex:
    ix = TantivyIndex(tmp_path_factory.mktemp("latin") / "ix")
    ix.index_pages([PageDoc(pid, int(pid.split(":")[0]), 1, text, "3300000000")
                    for pid, text in PAGES.items()])
    ix.refresh()
    return ix


def found(ix: TantivyIndex, text: str) -> set[str]:
    return {h.page_id for h in ix.search(SearchQuery(text=text, size=50, facets=False)).hits}


@pytest.mark.parametrize(("query", "pages"), [
    ("Power Supply Contract", {"1:1", "2:1", "3:1", "4:1"}),  # 4: each word is there
    ('"Power Supply Contract"', {"1:1", "2:1", "3:1"}),
    ("PowerSupplyContract", {"1:1", "2:1", "3:1"}),
    ("POWERSUPPLY contract", {"1:1", "2:1", "3:1", "6:1"}),
    ("Supply Contract", {"1:1", "2:1", "3:1", "4:1", "5:1"}),
    ('"supply contract"', {"1:1", "2:1", "3:1", "5:1"}),
    ('"contract power"', set()),  # never across a run's end
    ("供用电合同 Power Supply", {"1:1", "2:1", "3:1"}),
])
def test_latin_phrases_match_with_or_without_spaces(index: TantivyIndex, query: str,
                                                    pages: set[str]) -> None:
    assert found(index, query) == pages


def test_identifiers_and_short_words_stay_exact(index: TantivyIndex) -> None:
    assert found(index, "SDGDHT2020075456") == {"1:1"}
    assert found(index, "SDGDHT") == {"7:1"}  # not a prefix of the contract number
    assert found(index, "contract") == {"3:1", "4:1", "5:1", "6:1"}  # not Contractor
    assert found(index, "supply") == {"3:1", "4:1", "5:1"}


def test_runs_and_grams() -> None:
    assert latin_runs("供用电 POWER SUPPLY合同 Contract No. 12 ab x 3 y") == \
        ["powersupply", "contractno", "abx"]  # "y": shorter than a gram
    assert latin_grams(spaced_tokens("ABCD 合 efg")) == "abc bcd 000 efg"
    assert latin_runs("x1abc abc1 Ab-Cd") == ["abcd"]  # tokens with a digit break runs
    assert joined_query(["power", "supply"]) == "powersupply"
    assert joined_query(["contract"]) is None  # a short single word: whole-word only
    assert joined_query(["gdht2024"]) is None and joined_query(["ab"]) is None
    assert query_grams("powersupply") == [(0, "pow"), (3, "ers"), (6, "upp"), (8, "ply")]


def _latin(joined: str) -> dict[str, Any]:
    return {"multi_match": {"query": joined, "type": "phrase",
                            "fields": ["text_lj", "title_lj", "customer_name_lj"]}}


def _words(*words: str) -> dict[str, Any]:
    return {"bool": {"must": [{"multi_match": {"query": w, "type": "phrase",
                                               "fields": ["text", "title", "customer_name"]}}
                              for w in words]}}


def test_es_index_body_and_documents_carry_the_despaced_runs() -> None:
    body = build_index_body()
    analysis = body["settings"]["analysis"]
    assert analysis["tokenizer"]["dms_trigram"] == {
        "type": "ngram", "min_gram": 3, "max_gram": 3, "token_chars": ["letter", "digit"]}
    assert analysis["analyzer"]["dms_latin"] == {"type": "custom", "tokenizer": "dms_trigram"}
    for f in ("text_lj", "title_lj", "customer_name_lj"):
        assert body["mappings"]["properties"][f] == {"type": "text", "analyzer": "dms_latin"}
    doc = build_bulk_actions([PageDoc("2:1", 2, 1, PAGES["2:1"], "1", title="Power Plant")],
                             "i")[1]
    assert doc["text_lj"] == "powersupplycontract"
    assert doc["title_lj"] == "powerplant"
    assert doc["customer_name_lj"] == ""


def test_es_queries_also_ask_for_the_despaced_form() -> None:
    must = build_search_body(SearchQuery(text="Power Supply Contract"))["query"]["bool"]["must"]
    assert must == [{"bool": {"should": [_words("Power", "Supply", "Contract"),
                                         _latin("powersupplycontract")],
                              "minimum_should_match": 1}}]
    quoted = build_search_body(SearchQuery(text='"Power Supply"'))["query"]["bool"]["must"]
    assert quoted == [{"bool": {"should": [
        {"multi_match": {"query": "Power Supply", "type": "phrase",
                         "fields": ["text", "title", "customer_name"]}},
        _latin("powersupply")], "minimum_should_match": 1}}]
    single = build_search_body(SearchQuery(text="PowerSupplyContract"))["query"]
    assert single["bool"]["must"][0]["bool"]["should"][1] == _latin("powersupplycontract")
    # Identifiers and short words: exactly what was sent before.
    ident = build_search_body(SearchQuery(text="SDGDHT2020075456"))["query"]["bool"]["must"]
    assert all("_lj" not in str(clause) for clause in ident)
    word = build_search_body(SearchQuery(text="contract 合同"))["query"]["bool"]["must"]
    assert "_lj" not in str(word)


def test_an_index_is_rebuilt_not_misread(tmp_path: Path) -> None:
    # Pages indexed now are found through the new fields right after a reopen.
    ix = TantivyIndex(tmp_path / "ix")
    ix.index_pages([PageDoc("9:1", 9, 1, "POWERSUPPLYCONTRACT", "1")])
    ix.refresh()
    ix.close()
    again = TantivyIndex(tmp_path / "ix")
    assert found(again, "Power Supply Contract") == {"9:1"}
