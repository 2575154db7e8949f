"""Behavioural contract every SearchIndex backend must satisfy.

``SearchIndexContract`` holds the tests; each backend subclass supplies the
``index`` fixture. Elasticsearch runs only when DMS_ES_URL points at a server.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.errors import QueryError
from search.base import PageDoc, SearchIndex, SearchQuery, SearchResult
from search.tantivy_index import TantivyIndex
from tests.search.corpus import corpus

D = dt.date


def ids(result: SearchResult) -> list[str]:
    return [h.page_id for h in result.hits]


def docs(result: SearchResult) -> set[int]:
    return {h.document_id for h in result.hits}


class SearchIndexContract:
    @pytest.fixture
    def index(self) -> Iterator[SearchIndex]:  # overridden per backend
        raise NotImplementedError

    @pytest.fixture
    def loaded(self, index: SearchIndex) -> SearchIndex:
        assert index.index_pages(corpus()) == len(corpus())
        index.refresh()
        return index

    def q(self, ix: SearchIndex, text: str = "", **kw: object) -> SearchResult:
        return ix.search(SearchQuery(text=text, **kw))  # type: ignore[arg-type]

    def test_count(self, loaded: SearchIndex) -> None:
        assert loaded.count() == len(corpus())

    # --- Chinese words ---------------------------------------------------
    def test_two_char_word_finds_its_pages(self, loaded: SearchIndex) -> None:
        assert set(ids(self.q(loaded, "合同"))) == {"1:1", "4:1", "5:1", "6:1"}
        assert set(ids(self.q(loaded, "户号"))) == {"1:1", "6:1"}

    def test_non_adjacent_characters_do_not_match(self, loaded: SearchIndex) -> None:
        # 2:1 has 合作同意书: 合 and 同 both present, not adjacent -> no hit for 合同.
        assert "2:1" not in ids(self.q(loaded, "合同"))
        assert self.q(loaded, "作意").total == 0
        assert self.q(loaded, "同合").total == 0

    def test_four_char_word(self, loaded: SearchIndex) -> None:
        assert ids(self.q(loaded, "用电地址")) == ["5:1"]
        assert self.q(loaded, "地址用电").total == 0

    def test_quoted_phrase(self, loaded: SearchIndex) -> None:
        assert set(ids(self.q(loaded, '"供电公司与客户"'))) == {"1:1", "6:1"}
        assert set(ids(self.q(loaded, '"居民供用电合同"'))) == {"5:1"}
        assert set(ids(self.q(loaded, '"payment terms"'))) == {"1:2"}
        assert self.q(loaded, '"terms payment"').total == 0

    def test_long_words_and_phrases_match_exactly(self, index: SearchIndex) -> None:
        # A Latin/digit token between characters breaks a phrase, punctuation does not;
        # long phrases must not match across such a break (nor a cut-off text).
        phrase = "分界点电源侧设施由供电人维护"
        texts = {"9:1": "分界点电 X 源侧设施由供电人维护",
                 "9:2": "分界点电，源侧设施由供电人维护。",
                 "9:3": "用电地 9 址，分界点电源侧设施由供电人维", "9:4": "用电地址在 A 栋"}
        index.index_pages([PageDoc(pid, 9, int(pid[2]), text, "3309999999")
                           for pid, text in texts.items()])
        index.refresh()
        assert ids(self.q(index, phrase)) == ["9:2"]
        assert ids(self.q(index, f'"{phrase}"')) == ["9:2"]
        assert set(ids(self.q(index, "供电人维护"))) == {"9:1", "9:2"}
        assert ids(self.q(index, "用电地址")) == ["9:4"]
        assert set(ids(self.q(index, "源侧设施"))) == {"9:1", "9:2", "9:3"}
        assert self.q(index, "电源侧设").total == 2  # not 9:1: X stands between 电 and 源

    def test_traditional_query_finds_simplified_and_vice_versa(self, loaded: SearchIndex) -> None:
        assert set(ids(self.q(loaded, "電費"))) == {"1:2", "3:1"}
        assert set(ids(self.q(loaded, "电费"))) == {"1:2", "3:1"}
        assert set(ids(self.q(loaded, "缴纳"))) == {"3:1"}

    def test_english_is_case_insensitive(self, loaded: SearchIndex) -> None:
        assert ids(self.q(loaded, "contract")) == ["4:1"]
        assert ids(self.q(loaded, "PAYMENT")) == ["1:2"]

    # --- identifiers ------------------------------------------------------
    def test_exact_identifier_ranks_first(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, "GDHT-2024-000123")
        assert r.hits[0].page_id == "1:1"  # identifiers field: exact
        assert "4:1" in ids(r)  # mentions the number in its text
        assert ids(r).index("1:1") < ids(r).index("4:1")
        # 2:1 contains GDHT, 2024 and 000123 but not as that number.
        assert "2:1" not in ids(r)

    def test_identifier_is_case_and_width_insensitive(self, loaded: SearchIndex) -> None:
        assert self.q(loaded, "11010519491231002x").hits[0].page_id == "1:1"
        assert self.q(loaded, "ＧＤＨＴ-2024-000123").hits[0].page_id == "1:1"

    def test_customer_number_ranks_its_customer_first(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, "3301234567")
        assert docs(r) == {1}  # both pages: customer_no; 1:1 also has it in text
        assert self.q(loaded, "3301234568").hits[0].document_id == 2

    def test_field_syntax(self, loaded: SearchIndex) -> None:
        assert ids(self.q(loaded, "doc_type:发票")) == ["3:1"]
        assert ids(self.q(loaded, "户号:3301234569")) == ["3:1"]
        assert ids(self.q(loaded, "contract:gdht-2024-000123")) == ["1:1"]
        assert set(ids(self.q(loaded, "合同 team:B"))) == {"5:1"}
        assert docs(self.q(loaded, "year:2024")) == {1}

    # --- boolean operators ------------------------------------------------
    def test_and(self, loaded: SearchIndex) -> None:
        assert ids(self.q(loaded, "合同 终止")) == ["4:1"]
        assert self.q(loaded, "合同 增容").total == 0

    def test_or(self, loaded: SearchIndex) -> None:
        assert set(ids(self.q(loaded, "增容 OR 销户"))) == {"2:1", "4:1"}
        assert set(ids(self.q(loaded, "合同 增容 OR 终止"))) == {"4:1"}

    def test_exclusion(self, loaded: SearchIndex) -> None:
        assert set(ids(self.q(loaded, "合同 -终止"))) == {"1:1", "5:1", "6:1"}
        assert set(ids(self.q(loaded, '合同 -"供电公司"'))) == {"4:1", "5:1"}
        assert "4:1" not in ids(self.q(loaded, "-合同", size=50))
        assert self.q(loaded, "-合同").total == len(corpus()) - 4

    def test_unbalanced_quote_is_a_query_error(self, loaded: SearchIndex) -> None:
        with pytest.raises(QueryError, match="unbalanced quote"):
            self.q(loaded, '合同 "供用电')

    # --- filters, facets, dates, sorting, paging ---------------------------
    def test_filters(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, filters={"doc_type": ["合同"]})
        assert set(ids(r)) == {"1:1", "1:2", "4:1", "5:1", "6:1"}
        r = self.q(loaded, "合同", filters={"doc_type": ["合同"], "team": ["B", "C"]})
        assert set(ids(r)) == {"4:1", "5:1"}
        assert docs(self.q(loaded, filters={"year": ["2023", "2022"]})) == {2, 3}
        assert docs(self.q(loaded, filters={"customer_no": ["3301234570"]})) == {4}

    def test_unknown_filter_field_is_rejected(self, loaded: SearchIndex) -> None:
        with pytest.raises(QueryError):
            self.q(loaded, filters={"colour": ["red"]})

    def test_facet_counts(self, loaded: SearchIndex) -> None:
        f = self.q(loaded).facets
        assert f["doc_type"] == {"合同": 5, "申请表": 1, "发票": 1}
        assert f["team"] == {"A": 4, "B": 2, "C": 1}
        assert f["year"] == {"2024": 2, "2023": 1, "2022": 1, "2021": 1, "2020": 1, "2019": 1}
        f = self.q(loaded, "合同").facets  # facets follow the query
        assert f["business_type"] == {"新装": 3, "销户": 1}
        assert self.q(loaded, facets=False).facets == {}

    def test_date_range_is_inclusive(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, date_from=D(2022, 1, 10), date_to=D(2023, 6, 15))
        assert docs(r) == {2, 3}
        assert docs(self.q(loaded, date_from=D(2024, 1, 1))) == {1}
        assert docs(self.q(loaded, date_to=D(2020, 5, 5))) == {5, 6}

    def test_sort_by_date(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, "合同", sort="date_asc")
        assert ids(r) == ["6:1", "5:1", "4:1", "1:1"]
        r = self.q(loaded, "合同", sort="date_desc")
        assert ids(r) == ["1:1", "4:1", "5:1", "6:1"]

    def test_sort_by_date_within_a_year(self, index: SearchIndex) -> None:
        base = corpus()[0]
        pages = [PageDoc(f"{n}:1", n, 1, "排序测试", "1", team="A", date=d)
                 for n, d in ((10, D(2024, 12, 31)), (11, D(2024, 1, 1)), (12, D(2024, 6, 30)))]
        index.index_pages([*pages, base])
        index.refresh()
        assert docs(self.q(index, "排序")) == {10, 11, 12}
        assert [h.document_id for h in self.q(index, "排序", sort="date_desc").hits] == [10, 12, 11]
        assert [h.document_id for h in self.q(index, "排序", sort="date_asc").hits] == [11, 12, 10]

    def test_pagination(self, loaded: SearchIndex) -> None:
        pages = [self.q(loaded, sort="date_desc", page=n, size=3) for n in (1, 2, 3)]
        assert [p.total for p in pages] == [7, 7, 7]
        assert [len(p.hits) for p in pages] == [3, 3, 1]
        seen = [pid for p in pages for pid in ids(p)]
        assert sorted(seen) == sorted(p.page_id for p in corpus())
        assert seen[-1] == "6:1"  # oldest last
        with pytest.raises(QueryError):
            self.q(loaded, page=0)

    # --- snippets ---------------------------------------------------------
    def test_snippet_marks_matches_and_escapes_html(self, loaded: SearchIndex) -> None:
        hit = self.q(loaded, "script").hits[0]
        assert "<mark>script</mark>" in hit.snippet
        assert "&lt;" in hit.snippet and "<script>" not in hit.snippet
        assert "&#x27;x&#x27;" in hit.snippet
        hit = self.q(loaded, "终止").hits[0]
        assert "<mark>终止</mark>" in hit.snippet

    def test_snippet_shows_original_traditional_text(self, loaded: SearchIndex) -> None:
        hit = self.q(loaded, "电费").hits
        trad = next(h for h in hit if h.page_id == "3:1")
        assert "<mark>電費</mark>" in trad.snippet

    def test_hit_fields(self, loaded: SearchIndex) -> None:
        hit = self.q(loaded, "用电地址").hits[0]
        assert (hit.document_id, hit.page_no) == (5, 1)
        assert hit.fields["doc_type"] == "合同"
        assert hit.fields["date"] == "2020-05-05"
        assert hit.score > 0

    # --- writes -----------------------------------------------------------
    def test_delete_document_removes_all_its_pages(self, loaded: SearchIndex) -> None:
        loaded.delete_document(1)
        loaded.refresh()
        assert loaded.count() == len(corpus()) - 2
        assert 1 not in docs(self.q(loaded, size=50))
        assert ids(self.q(loaded, '"供电公司"')) == ["6:1"]

    def test_upsert_replaces_page(self, loaded: SearchIndex) -> None:
        page = next(p for p in corpus() if p.page_id == "3:1")
        page.text = "更新后的文本 抄表记录"
        assert loaded.index_pages([page]) == 1
        loaded.refresh()
        assert loaded.count() == len(corpus())
        assert self.q(loaded, "缴纳").total == 0
        assert ids(self.q(loaded, "抄表")) == ["3:1"]

    def test_allowed_teams(self, loaded: SearchIndex) -> None:
        r = self.q(loaded, "合同", allowed_teams=["A"])
        assert set(ids(r)) == {"1:1", "6:1"}
        assert r.facets["team"] == {"A": 2}
        assert self.q(loaded, "合同", allowed_teams=[]).total == 0
        assert self.q(loaded, "合同", allowed_teams=None).total == 4

    def test_more_like_this(self, loaded: SearchIndex) -> None:
        r = loaded.more_like_this(1, size=3)
        assert r.hits, "document 6 is a near-duplicate of document 1"
        assert r.hits[0].document_id == 6
        assert 1 not in docs(r)
        assert len(docs(r)) == len(r.hits)  # one page per document
        assert loaded.more_like_this(999).hits == []

    def test_clear_and_reindex_gives_identical_results(self, loaded: SearchIndex) -> None:
        queries = ["合同", "電費", "GDHT-2024-000123", "增容 OR 销户", ""]
        before = [ids(self.q(loaded, t, sort="date_desc")) for t in queries]
        loaded.clear()
        loaded.refresh()
        assert loaded.count() == 0
        assert self.q(loaded, "合同").total == 0
        loaded.index_pages(corpus())
        loaded.refresh()
        assert [ids(self.q(loaded, t, sort="date_desc")) for t in queries] == before

    def test_index_pages_accepts_a_generator(self, index: SearchIndex) -> None:
        assert index.index_pages(p for p in corpus()) == len(corpus())
        index.refresh()
        assert index.count() == len(corpus())


class TestTantivyIndex(SearchIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[SearchIndex]:
        ix = TantivyIndex(tmp_path / "index")
        yield ix
        ix.close()

    def test_persists_across_reopen(self, tmp_path: Path) -> None:
        ix = TantivyIndex(tmp_path / "index")
        ix.index_pages(corpus())
        expected = ids(ix.search(SearchQuery("合同")))
        ix.close()
        again = TantivyIndex(tmp_path / "index")
        assert again.count() == len(corpus())
        assert ids(again.search(SearchQuery("合同"))) == expected
        assert again.search(SearchQuery("電費")).total == 2


class TestElasticsearchIndex(SearchIndexContract):
    @pytest.fixture
    def index(self) -> Iterator[SearchIndex]:
        url = os.environ.get("DMS_ES_URL")
        if not url:
            pytest.skip("DMS_ES_URL not set: no Elasticsearch server on this machine")
        from search.es_index import ElasticsearchIndex

        name = f"dms-test-{uuid.uuid4().hex[:8]}"
        ix = ElasticsearchIndex(url, name)
        yield ix
        # Wildcard deletes are refused by default (destructive_requires_name): name them.
        for concrete in ix._es.indices.get(index=f"{name}-v*").body:
            ix._es.indices.delete(index=concrete)
        ix.close()

    def test_reindex_swaps_alias(self, loaded: SearchIndex) -> None:
        from search.es_index import ElasticsearchIndex

        assert isinstance(loaded, ElasticsearchIndex)
        new = loaded.begin_reindex()
        assert new.endswith("-v2")
        loaded.index_pages(p for p in corpus() if p.document_id != 4)
        assert self.q(loaded, "销户").total == 1  # still served by v1
        loaded.finish_reindex()
        loaded.refresh()
        assert self.q(loaded, "销户").total == 0
        assert loaded.count() == len(corpus()) - 1


