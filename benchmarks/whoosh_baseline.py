"""The baseline of the search benchmark: the same pages and queries on Whoosh.

Whoosh (``whoosh-reloaded``) is the pure-Python engine paperless-ngx used before its
version 3. To be a fair baseline it gets the same analysis as the embedded index:
the text is normalised and split into per-character Han tokens and Latin/digit words
by our Python analyzer (``spaced_tokens``), a CJK word becomes a phrase over its
characters, identifiers match an exact keyword field with the same boost, filters and
facets run on keyword/numeric/date columns, and snippets come from the same
``make_snippet`` over the stored original text. Only what the benchmark uses of the
query language is translated (AND of OR groups, exclusions, keyword fields).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import fields as wf
from whoosh import index as wi
from whoosh import query as wq
from whoosh import sorting
from whoosh.analysis import LowercaseFilter, RegexTokenizer

from search.analysis import make_snippet, normalize_identifier, spaced_tokens
from search.base import (
    FACET_FIELDS, PageDoc, SearchQuery, SearchResult, hit_from_source, page_to_source,
    validate_paging,
)
from search.query import Term, parse_query
from search.tantivy_index import IDENTIFIER_BOOST
from search.tantivy_schema import KEYWORD_FIELDS, TEXT_FIELDS

# Input is already split by spaced_tokens: split on spaces, lower-case.
_ANALYZER = RegexTokenizer(r"\S+") | LowercaseFilter()


def _schema() -> wf.Schema:
    cols: dict[str, Any] = {
        "page_id": wf.ID(stored=True, unique=True),
        "document_id": wf.NUMERIC(int, stored=True),
        "identifiers": wf.KEYWORD(commas=True),
        "date": wf.DATETIME(sortable=True),
        "year": wf.ID(sortable=True),
        "source": wf.STORED(),
    }
    for f in TEXT_FIELDS:
        cols[f] = wf.TEXT(analyzer=_ANALYZER, phrase=True)
    for f in KEYWORD_FIELDS:
        cols[f] = wf.ID(sortable=True)
    return wf.Schema(**cols)


class WhooshIndex:
    name = "whoosh"

    def __init__(self, path: Path, *, create: bool = True) -> None:
        """``create=False`` opens an index an earlier run built (the benchmark's --reuse)."""
        path.mkdir(parents=True, exist_ok=True)
        self._ix = wi.create_in(str(path), _schema()) if create else wi.open_dir(str(path))
        self._searcher: Any = None if create else self._ix.searcher()

    def index_pages(self, pages: Iterable[PageDoc], limitmb: int = 1024) -> int:
        n = 0
        writer = self._ix.writer(limitmb=limitmb)
        for p in pages:
            doc: dict[str, Any] = {
                "page_id": p.page_id, "document_id": p.document_id,
                "identifiers": ",".join(normalize_identifier(i) for i in p.identifiers),
                "source": json.dumps(page_to_source(p), ensure_ascii=False)}
            for f in TEXT_FIELDS:
                if getattr(p, f):
                    doc[f] = spaced_tokens(getattr(p, f))
            for f in KEYWORD_FIELDS:
                if getattr(p, f):
                    value = getattr(p, f)
                    doc[f] = normalize_identifier(value) if f in ("customer_no",
                                                                  "business_no") else value
            if p.date:
                doc["date"] = dt.datetime(p.date.year, p.date.month, p.date.day)
                doc["year"] = str(p.date.year)
            writer.add_document(**doc)
            n += 1
        writer.commit()
        self._searcher = self._ix.searcher()
        return n

    def _tokens(self, text: str) -> list[str]:
        return [t.text for t in _ANALYZER(spaced_tokens(text))]

    def _term(self, t: Term) -> wq.Query | None:
        if t.field == "identifiers":
            return wq.Term("identifiers", t.key)
        if t.field is not None:
            return wq.Term(t.field, t.key)
        tokens = self._tokens(t.text)
        subs: list[wq.Query] = []
        for f in TEXT_FIELDS:
            if len(tokens) == 1:
                subs.append(wq.Term(f, tokens[0]))
            elif tokens:
                subs.append(wq.Phrase(f, tokens))
        if t.identifier:
            subs += [wq.Term(f, t.key, boost=IDENTIFIER_BOOST)
                     for f in ("identifiers", "customer_no", "business_no")]
        return wq.Or(subs) if subs else None

    def _filter(self, q: SearchQuery) -> wq.Query | None:
        parts: list[wq.Query] = []
        for field, values in q.filters.items():
            parts.append(wq.Or([wq.Term(field, v) for v in values]))
        if q.date_from or q.date_to:
            start = dt.datetime.combine(q.date_from, dt.time()) if q.date_from else None
            end = dt.datetime.combine(q.date_to, dt.time(23, 59)) if q.date_to else None
            parts.append(wq.DateRange("date", start, end))
        if q.allowed_teams is not None:
            parts.append(wq.Or([wq.Term("team", t) for t in q.allowed_teams]))
        return wq.And(parts) if parts else None

    def search(self, q: SearchQuery) -> SearchResult:
        t0 = time.perf_counter()
        offset, limit = validate_paging(q)
        parsed = parse_query(q.text)
        must = [wq.Or([s for s in map(self._term, g) if s is not None]) for g in parsed.groups]
        nots = [s for s in map(self._term, parsed.excluded) if s is not None]
        query: wq.Query = wq.And(must) if must else wq.Every()
        if nots:
            query = wq.AndNot(query, wq.Or(nots))
        facets = {f: sorting.FieldFacet(f, maptype=sorting.Count) for f in FACET_FIELDS}
        res = self._searcher.search(query, limit=offset + limit, filter=self._filter(q),
                                    groupedby=facets if q.facets else None)
        phrases = [self._tokens(t.text) for t in parsed.positive_terms if t.field is None]
        hits = []
        for h in list(res)[offset:]:
            src = json.loads(h["source"])
            hits.append(hit_from_source(src, float(h.score), make_snippet(src["text"], phrases)))
        counts = {f: {str(k): int(v) for k, v in res.groups(f).items()}
                  for f in FACET_FIELDS} if q.facets else {}
        return SearchResult(total=len(res), hits=hits, facets=counts,
                            took_ms=(time.perf_counter() - t0) * 1000)

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
