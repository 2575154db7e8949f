"""The embedded index's per-hit record (issue 6): metadata JSON + prepared snippet texts.

Hits built from the stored record must be what the old single "source" JSON gave: the
same fields, and the snippet ``make_snippet`` made from the original page text. The
reference snippet below is ``make_snippet`` as it was before the record existed
(collapse + fold the original at every query, every match scan a plain lookahead
``finditer``), kept verbatim so that a change of the stored texts, of
``prepared_snippet`` or of its faster match scan shows up here.
"""
from __future__ import annotations

import datetime as dt
import html
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
import tantivy

from dms.errors import SearchError, SearchIndexUnreadable
from search.analysis import (
    SNIPPET_CHARS,
    _merge,
    _needs_edge_check,
    _phrase_re,
    _whole_tokens,
    make_snippet,
    normalize_text,
    prepared_snippet,
    snippet_texts,
    tokenize,
)
from search.base import PageDoc, SearchQuery, hit_fields, page_to_source
from search.tantivy_index import TantivyIndex
from search.tantivy_schema import (
    BIGRAM_SUFFIX,
    GRAM_FIELDS,
    KEYWORD_FIELDS,
    SNIPPET_FOLDED_FIELD,
    SNIPPET_TEXT_FIELD,
    TEXT_FIELDS,
    build_analyzer,
    build_schema,
)

SIMPLIFIED = "供用电合同户号费用申请容量地址的是"
TRADITIONAL = "電費號戶請這個們臺灣"  # each folds to another character
T_PHRASES = ["乾隆", "臺灣", "電費結算", "申請書"]  # OpenCC phrases (乾隆 stays as is)
WIDTH = "ＡＢＣａｂ０１２３９"  # full-width letters/digits fold to ASCII
OTHER = "AbC xyz 42 No.7 <&> ，。：（）-_/"
SPACES = [" ", "  ", "\n", "\r\n", "\t", "\u3000", " \n\t "]  # collapsed in a snippet


def _reference_spans_in(text: str, phrases: Sequence[Sequence[str]], lo: int,
                        hi: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        if not phrase:
            continue
        key = tuple(phrase)
        check = _needs_edge_check(key)
        for m in _phrase_re(key).finditer(text, lo):
            s, e = m.span(1)
            if s >= hi:
                break
            if not check or _whole_tokens(text, s, e):
                spans.append((s, e))
    return spans


def _reference_first_match(text: str, phrases: Sequence[Sequence[str]]) -> int | None:
    first: int | None = None
    for phrase in phrases:
        if not phrase:
            continue
        key = tuple(phrase)
        check = _needs_edge_check(key)
        for m in _phrase_re(key).finditer(text):
            if first is not None and m.start(1) >= first:
                break
            if not check or _whole_tokens(text, *m.span(1)):
                first = m.start(1)
                break
    return first


def reference_snippet(original: str, phrases: Sequence[Sequence[str]],
                      max_chars: int = SNIPPET_CHARS) -> str:
    """``make_snippet`` before issue 6, verbatim."""
    text = " ".join(original.split())
    folded = normalize_text(text)
    first = _reference_first_match(folded, phrases)
    if first is not None:
        start = max(0, first - max_chars // 4)
        end = min(len(text), start + max_chars)
        start = max(0, min(start, end - max_chars))
        spans = _merge(sorted(_reference_spans_in(folded, phrases, first, end)))
    else:
        start, end, spans = 0, min(len(text), max_chars), []
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def _mixed_text(r: random.Random, max_parts: int = 60) -> str:
    parts: list[str] = []
    for _ in range(r.randint(0, max_parts)):
        k = r.random()
        if k < 0.35:
            parts.append(r.choice(SIMPLIFIED))
        elif k < 0.55:
            parts.append(r.choice(TRADITIONAL))
        elif k < 0.62:
            parts.append(r.choice(T_PHRASES))
        elif k < 0.72:
            parts.append(r.choice(WIDTH))
        elif k < 0.87:
            parts.append(r.choice(OTHER))
        else:
            parts.append(r.choice(SPACES))
    return "".join(parts)


def _phrases(r: random.Random, text: str) -> list[list[str]]:
    """Query phrases as the index makes them (folded tokens): mostly taken from the
    page, some from anywhere (misses), sometimes none."""
    words = tokenize(text)
    out: list[list[str]] = []
    for _ in range(r.randint(0, 3)):
        if words and r.random() < 0.75:
            i = r.randrange(len(words))
            out.append(words[i:i + r.randint(1, 4)])
        else:
            out.append(tokenize(_mixed_text(r, 4)) or ["电"])
    return out


def test_prepared_snippet_equals_the_snippet_of_the_original() -> None:
    r = random.Random(61)
    marked = traditional = 0
    for _ in range(3000):
        original = _mixed_text(r)
        phrases = _phrases(r, original)
        max_chars = r.choice((8, 30, SNIPPET_CHARS))
        expected = reference_snippet(original, phrases, max_chars)
        shown, folded = snippet_texts(original)
        assert prepared_snippet(shown, folded, phrases, max_chars) == expected, \
            (original, phrases)
        assert make_snippet(original, phrases, max_chars) == expected
        marked += "<mark>" in expected
        traditional += folded != shown
    assert marked > 1000 and traditional > 1000  # the mix exercised what it is for
    # few characters: overlapping and adjacent matches (合合 in 合合合, ab ab in ab ab ab)
    for _ in range(1500):
        original = "".join(r.choice(["合", "合", "閤", "同", " ", "\n", "ab", "ＡＢ", "1"])
                           for _ in range(r.randint(0, 40)))
        phrases = _phrases(r, original)
        shown, folded = snippet_texts(original)
        assert prepared_snippet(shown, folded, phrases, 30) == \
            reference_snippet(original, phrases, 30), (original, phrases)


def test_prepared_snippet_refuses_texts_of_different_lengths() -> None:
    with pytest.raises(SearchError, match="not made by snippet_texts"):
        prepared_snippet("供用电合同", "供用电", [["合", "同"]])


def _pages(r: random.Random, n: int) -> list[PageDoc]:
    pages = [PageDoc(f"{i}:1", i, 1, _mixed_text(r, 200), f"33{i:08d}",
                     customer_name=r.choice(["张三", "臺灣電力", ""]),
                     business_no=f"YK{i:06d}", business_type="新装", doc_type="合同",
                     team=r.choice(["A", "B"]), state="archived",
                     date=dt.date(2020, 1, 1) + dt.timedelta(days=i),
                     identifiers=[f"GDHT-{i:05d}"] if i % 3 else [],
                     location="A-01-02", title=r.choice(["供用電合同", "申请书", ""]))
             for i in range(1, n + 1)]
    pages.append(PageDoc("0:1", 0, 1, "", "3300000000"))  # a page without text
    return pages


def test_hits_are_the_page_fields_and_its_original_snippet(tmp_path: Path) -> None:
    r = random.Random(62)
    pages = _pages(r, 150)
    by_id = {p.page_id: p for p in pages}
    ix = TantivyIndex(tmp_path / "ix")
    ix.index_pages(pages)
    ix.refresh()
    words = ["電費", "电费", "合同", "乾隆", "臺灣", "ab", "ＡＢ", "42", "申請", "户号费"]
    hits = 0
    for word in words:
        phrase = tokenize(word)
        for h in ix.search(SearchQuery(word, size=1000, facets=False)).hits:
            page = by_id[h.page_id]
            assert (h.document_id, h.page_no) == (page.document_id, page.page_no)
            assert h.fields == hit_fields(page_to_source(page))
            assert h.snippet == reference_snippet(page.text, [phrase]), (word, page.text)
            hits += 1
    assert hits > 300
    # no words: every page, newest first, snippet = the start of the text
    for h in ix.search(SearchQuery("", size=1000, facets=False)).hits:
        assert h.snippet == reference_snippet(by_id[h.page_id].text, [])
        assert h.fields == hit_fields(page_to_source(by_id[h.page_id]))


def test_the_folded_text_is_stored_only_where_it_differs(tmp_path: Path) -> None:
    pages = [PageDoc("1:1", 1, 1, "供用电合同\n  户号 3301", "c"),
             PageDoc("2:1", 2, 1, "供用電合同\t戶號 ３３０１", "c"),
             PageDoc("3:1", 3, 1, "", "c")]
    TantivyIndex(tmp_path).index_pages(pages)
    index = tantivy.Index(build_schema(), path=str(tmp_path), reuse=True)
    searcher = index.searcher()
    stored = {}
    for p in pages:
        own = tantivy.Query.term_query(build_schema(), "page_id", p.page_id)
        (_, addr), = searcher.search(own, 2).hits
        doc = searcher.doc(addr)
        stored[p.page_id] = (doc.get_first(SNIPPET_TEXT_FIELD),
                             doc.get_first(SNIPPET_FOLDED_FIELD))
    assert stored["1:1"] == ("供用电合同 户号 3301".encode(), None)
    assert stored["2:1"] == ("供用電合同 戶號 ３３０１".encode(), "供用电合同 户号 3301".encode())
    assert stored["3:1"] == (b"", None)


def schema_before_issue_6() -> tantivy.Schema:
    """The schema the embedded index had with one stored "source" JSON per page."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("page_id", stored=True, tokenizer_name="raw")
    sb.add_integer_field("document_id", stored=True, indexed=True, fast=True)
    for f in TEXT_FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name="dms_text")
        sb.add_text_field(f + BIGRAM_SUFFIX, stored=False, tokenizer_name="dms_text")
        for _, suffix in GRAM_FIELDS:
            sb.add_text_field(f + suffix, stored=False, tokenizer_name="dms_text")
    for f in KEYWORD_FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name="raw", fast=True)
    sb.add_text_field("identifiers", stored=False, tokenizer_name="raw")
    sb.add_date_field("date", indexed=True, fast=True)
    sb.add_integer_field("year", indexed=True, fast=True)
    sb.add_bytes_field("source", stored=True)
    return sb.build()


def test_an_index_with_the_source_json_asks_for_a_reindex(tmp_path: Path) -> None:
    old = tantivy.Index(schema_before_issue_6(), path=str(tmp_path))
    old.register_tokenizer("dms_text", build_analyzer())
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    doc = tantivy.Document()
    doc.add_text("page_id", "1:1")
    doc.add_integer("document_id", 1)
    doc.add_bytes("source", '{"page_id": "1:1", "text": "合同"}'.encode())
    writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    with pytest.raises(SearchIndexUnreadable) as err:
        TantivyIndex(tmp_path)
    assert "dms reindex" in (err.value.hint or "")
