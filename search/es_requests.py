"""Pure builders of every Elasticsearch request body ``ElasticsearchIndex`` sends.

Kept free of I/O so the exact mapping, bulk actions and query bodies are unit-tested
without a server (there is none on the build machine). Query semantics mirror the
tantivy backend: the text field uses the ``standard`` tokenizer, which emits one
token per Han character, and every CJK word is a ``phrase`` query over those
characters, so 合同 matches exactly (never 合作同意). Traditional is folded to
Simplified by OpenCC before sending (no ICU plugin needed); originals are kept in
the un-indexed ``page`` object for snippets.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from errorkit import QueryError
from search.analysis import normalize_identifier, normalize_text, tokenize
from search.latin import GRAM, joined_query, latin_runs_text, word_runs
from search.base import (
    FACET_FIELDS,
    FACET_SIZE,
    FILTER_FIELDS,
    PageDoc,
    SearchQuery,
    page_to_source,
    validate_paging,
)
from search.query import ParsedQuery, Term, parse_query

TEXT_FIELDS = ["text", "title", "customer_name"]  # indexed Simplified-folded copies
KEYWORD_FIELDS = ["customer_no", "business_no", "business_type", "doc_type", "team", "state"]
NORMALISED_KEYS = {"customer_no", "business_no"}
IDENTIFIER_BOOST = 10.0  # an exact identifier hit must outrank any text-only mention
MLT_MAX_CHARS = 20_000  # more_like_this "like" text: enough to characterise a document
LATIN_SUFFIX = "_lj"  # Latin words de-spaced, as letter trigrams (search/latin.py)
LATIN_FIELDS = [f + LATIN_SUFFIX for f in TEXT_FIELDS]


def build_index_body() -> dict[str, Any]:
    """Settings + explicit mapping of a concrete ``<alias>-v<N>`` index."""
    keyword = {"type": "keyword"}
    per_char = {"type": "text", "analyzer": "dms_text"}
    return {
        "settings": {
            "analysis": {
                "analyzer": {
                    # standard tokenizer: one token per Han char, words for Latin/digits.
                    "dms_text": {"type": "custom", "tokenizer": "standard",
                                 "filter": ["cjk_width", "lowercase"]},
                    # De-spaced Latin runs (lower case already) as trigrams in a row; the
                    # runs' "000" separator becomes a filler gram, as in tantivy.
                    "dms_latin": {"type": "custom", "tokenizer": "dms_trigram"},
                },
                "tokenizer": {
                    "dms_trigram": {"type": "ngram", "min_gram": GRAM, "max_gram": GRAM,
                                    "token_chars": ["letter", "digit"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "page_id": keyword,
                "document_id": {"type": "long"},
                "page_no": {"type": "integer"},
                # bigram sub-field: better topic terms than single characters for MLT.
                "text": {**per_char, "fields": {"bigram": {"type": "text", "analyzer": "cjk"}}},
                "title": per_char,
                "customer_name": per_char,
                **{f: {"type": "text", "analyzer": "dms_latin"} for f in LATIN_FIELDS},
                **{f: keyword for f in KEYWORD_FIELDS},
                "identifiers": keyword,
                "date": {"type": "date", "format": "strict_date"},
                "year": {"type": "integer"},
                # The page as given (original text): returned, never searched.
                "page": {"type": "object", "enabled": False},
            },
        },
    }


def page_document(p: PageDoc) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "page_id": p.page_id,
        "document_id": p.document_id,
        "page_no": p.page_no,
        **{f: normalize_text(getattr(p, f)) for f in TEXT_FIELDS},
        **{f + LATIN_SUFFIX: latin_runs_text(getattr(p, f)) for f in TEXT_FIELDS},
        "identifiers": [normalize_identifier(i) for i in p.identifiers if i.strip()],
        "date": p.date.isoformat() if p.date else None,
        "year": p.date.year if p.date else None,
        "page": page_to_source(p),
    }
    for f in KEYWORD_FIELDS:
        v = getattr(p, f).strip()
        doc[f] = (normalize_identifier(v) if f in NORMALISED_KEYS else v) or None
    return doc


def build_bulk_actions(pages: Iterable[PageDoc], index: str) -> list[dict[str, Any]]:
    """Flat operations for ``client.bulk``: ``index`` by page_id is an upsert."""
    ops: list[dict[str, Any]] = []
    for p in pages:
        ops.append({"index": {"_index": index, "_id": p.page_id}})
        ops.append(page_document(p))
    return ops


def _text_query(text: str) -> dict[str, Any]:
    phrase = {"multi_match": {"query": normalize_text(text), "type": "phrase",
                              "fields": list(TEXT_FIELDS)}}
    joined = joined_query(tokenize(text))
    if joined is None:
        return phrase
    return {"bool": {"should": [phrase, _joined_query(joined)], "minimum_should_match": 1}}


def _joined_query(joined: str) -> dict[str, Any]:
    """Latin words de-spaced: a phrase over their letter trigrams (search/latin.py)."""
    return {"multi_match": {"query": joined, "type": "phrase", "fields": list(LATIN_FIELDS)}}


def _keyword_value(field: str, value: str) -> str | int:
    if field == "year":
        try:
            return int(value)
        except ValueError as e:
            raise QueryError(f"year must be a number, got {value!r}") from e
    if field in ("identifiers", *NORMALISED_KEYS):
        return normalize_identifier(value)
    return value.strip()


def term_query(t: Term) -> dict[str, Any] | None:
    if t.field is not None:
        return {"term": {t.field: _keyword_value(t.field, t.text)}}
    should: list[dict[str, Any]] = []
    if tokenize(t.text):
        should.append(_text_query(t.text))
    if t.identifier:
        should += [{"term": {f: {"value": t.key, "boost": IDENTIFIER_BOOST}}}
                   for f in ("identifiers", "customer_no", "business_no")]
    if not should:
        return None  # pure punctuation: nothing to search for, ignored (as in tantivy)
    if len(should) == 1:
        return should[0]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _filters(q: SearchQuery) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for field, values in q.filters.items():
        if field not in FILTER_FIELDS:
            raise QueryError(f"unknown filter field {field!r}",
                             hint=f"one of {', '.join(FILTER_FIELDS)}")
        if values:
            out.append({"terms": {field: [_keyword_value(field, v) for v in values]}})
    if q.date_from or q.date_to:
        rng: dict[str, str] = {}
        if q.date_from:
            rng["gte"] = q.date_from.isoformat()
        if q.date_to:
            rng["lte"] = q.date_to.isoformat()
        out.append({"range": {"date": rng}})
    if q.allowed_teams is not None:  # [] matches nothing: no permitted team
        out.append({"terms": {"team": list(q.allowed_teams)}})
    return out


def build_bool_query(parsed: ParsedQuery, q: SearchQuery) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    for start, end, joined in word_runs(parsed.groups, tokenize):
        if joined is not None:
            # Latin words typed one by one: each of them, or all run together (as OCR may
            # have read them) -- the same as the tantivy backend.
            each = [s for s in (term_query(g[0]) for g in parsed.groups[start:end]) if s]
            must.append({"bool": {"should": [{"bool": {"must": each}}, _joined_query(joined)],
                                  "minimum_should_match": 1}})
            continue
        for group in parsed.groups[start:end]:
            subs = [s for s in (term_query(t) for t in group) if s is not None]
            if len(subs) == 1:
                must.append(subs[0])
            elif subs:
                must.append({"bool": {"should": subs, "minimum_should_match": 1}})
    must_not = [s for s in (term_query(t) for t in parsed.excluded) if s is not None]
    query: dict[str, Any] = {}
    if must:
        query["must"] = must
    if must_not:
        query["must_not"] = must_not
    if filters := _filters(q):
        query["filter"] = filters
    return {"bool": query} if query else {"match_all": {}}


def sorts_by_date(parsed: ParsedQuery, q: SearchQuery) -> bool:
    """Relevance without any words has no meaning: newest first (same as tantivy)."""
    return q.sort != "relevance" or not parsed.groups


def build_search_body(q: SearchQuery) -> dict[str, Any]:
    parsed = parse_query(q.text)
    offset, size = validate_paging(q)
    if sorts_by_date(parsed, q):
        order = "asc" if q.sort == "date_asc" else "desc"
        sort: list[dict[str, Any]] = [{"date": {"order": order, "missing": "_last"}}]
    else:
        sort = [{"_score": {"order": "desc"}}]
    sort.append({"page_id": {"order": "asc"}})  # deterministic pagination on ties
    body: dict[str, Any] = {
        "query": build_bool_query(parsed, q),
        "from": offset,
        "size": size,
        "sort": sort,
        "track_total_hits": True,
        "_source": ["page"],
    }
    if q.facets:
        body["aggs"] = {f: {"terms": {"field": f, "size": FACET_SIZE}} for f in FACET_FIELDS}
    return body


def build_more_like_this_body(text: str, document_id: int, size: int) -> dict[str, Any]:
    return {
        "query": {"bool": {
            "must": [{"more_like_this": {
                "fields": ["text.bigram"], "like": normalize_text(text[:MLT_MAX_CHARS]),
                "min_term_freq": 1, "min_doc_freq": 1, "max_query_terms": 64,
            }}],
            "must_not": [{"term": {"document_id": document_id}}],
        }},
        "collapse": {"field": "document_id"},  # one best page per similar document
        "size": size,
        "_source": ["page"],
    }


_VERSION_RE = re.compile(r"-v(\d+)$")


def versioned_index_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def next_index_version(alias: str, existing: Iterable[str]) -> int:
    versions = [int(m.group(1)) for name in existing
                if name.startswith(alias) and (m := _VERSION_RE.search(name[len(alias):]))]
    return max(versions, default=0) + 1


def build_alias_swap(alias: str, old: Iterable[str], new: str) -> dict[str, Any]:
    """One atomic ``_aliases`` call: searches never see a missing or double alias."""
    actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old]
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    return {"actions": actions}
