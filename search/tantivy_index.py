"""Embedded search backend: a tantivy index in a local directory.

Multi-process writing: tantivy allows one ``IndexWriter`` per index directory at a
time, across processes (an OS file lock, released automatically if a process dies).
The web process and the OCR workers all write, so nobody keeps a writer open: every
batch acquires the writer (retrying with backoff while another process holds it, up
to ``lock_timeout`` seconds), commits, waits for merges and releases it. Readers are
lock-free; ``refresh()`` reloads to see other processes' commits.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from errorkit import QueryError, SearchError, SearchIndexUnreadable
from search.analysis import han_bigrams, han_ngrams, prepared_snippet, spaced_tokens
from search.base import (
    FACET_FIELDS,
    FACET_SIZE,
    FILTER_FIELDS,
    Hit,
    PageDoc,
    SearchQuery,
    SearchResult,
    hit_from_source,
    validate_paging,
)
from search.latin import joined_query, query_grams, word_runs
from search.query import ParsedQuery, Term, parse_query
from search.tantivy_schema import (
    ANALYZER,
    BIGRAM_SUFFIX,
    GRAM_FIELDS,
    LATIN_SUFFIX,
    META_FIELD,
    SNIPPET_FOLDED_FIELD,
    SNIPPET_TEXT_FIELD,
    TEXT_FIELDS,
    as_datetime,
    build_analyzer,
    build_schema,
    make_document,
)

IDENTIFIER_BOOST = 10.0  # an exact identifier hit must outrank any text-only mention
BATCH_PAGES = 500  # pages per writer acquisition, so other writers are not starved
# Frequent function characters carry no topic; keep them out of more-like-this.
MLT_STOP_WORDS = list("的了是在和有与及或为对等于其中之也就都而被把这那个")


def _word(w: str | tuple[int, str]) -> str:
    return w[1] if isinstance(w, tuple) else w


def _stored_bytes(doc: tantivy.Document, field: str) -> bytes:
    raw = doc.get_first(field)
    if not isinstance(raw, bytes):
        raise SearchError(f"index document without {field!r}: an index of other code",
                          hint="`dms reindex` rebuilds it from the database")
    return raw


def _hit(doc: tantivy.Document, score: float, phrases: list[list[str]]) -> Hit:
    """A hit from one stored document: metadata JSON plus the prepared snippet texts
    (never the page text as JSON, never folded again; see ``tantivy_schema``)."""
    meta: dict[str, Any] = json.loads(_stored_bytes(doc, META_FIELD))
    text = _stored_bytes(doc, SNIPPET_TEXT_FIELD).decode()
    folded_raw = doc.get_first(SNIPPET_FOLDED_FIELD)
    folded = folded_raw.decode() if isinstance(folded_raw, bytes) else text
    return hit_from_source(meta, score, prepared_snippet(text, folded, phrases))


class TantivyIndex:
    name = "tantivy"

    def __init__(self, path: Path, *, lock_timeout: float = 30.0,
                 heap_size: int = 50_000_000, writer_threads: int = 1,
                 batch_pages: int = BATCH_PAGES) -> None:
        """``heap_size``/``writer_threads``/``batch_pages``: the defaults suit many small
        writers sharing the index; a bulk load (``dms reindex``, the benchmark) wants a
        big heap, one thread per core and large batches (fewer commits and merges)."""
        self.path = Path(path)
        self._lock_timeout = lock_timeout
        self._heap_size = heap_size
        self._writer_threads = writer_threads
        self._batch_pages = batch_pages
        self._write_lock = threading.Lock()  # threads of one process queue here, not on disk
        self.path.mkdir(parents=True, exist_ok=True)
        self._schema = build_schema()
        try:
            self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as e:
            raise SearchIndexUnreadable(
                f"cannot open the search index at {self.path} (written by another version "
                f"of dms, or damaged): {e}",
                hint="`dms reindex` rebuilds it from the database") from e
        self._analyzer = build_analyzer()
        self._index.register_tokenizer(ANALYZER, self._analyzer)

    # ---------------------------------------------------------------- writing
    def _acquire_writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self._lock_timeout
        delay = 0.02
        while True:
            try:
                return self._index.writer(heap_size=self._heap_size,
                                          num_threads=self._writer_threads)
            except ValueError as e:
                if "LockBusy" not in str(e):
                    raise SearchError(f"cannot open a writer on {self.path}: {e}") from e
                if time.monotonic() >= deadline:
                    raise SearchError(
                        f"search index {self.path} stayed locked by another writer for "
                        f"{self._lock_timeout:.0f}s",
                        hint="another dms process is writing a long batch; retry later",
                    ) from e
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        with self._write_lock:
            writer = self._acquire_writer()
            try:
                yield writer
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # consumes the writer: releases the file lock
        self._index.reload()

    def index_pages(self, pages: Iterable[PageDoc]) -> int:
        it = iter(pages)
        written = 0
        while batch := list(islice(it, self._batch_pages)):
            docs = [(p.page_id, make_document(p)) for p in batch]  # analyse before locking
            with self._writer() as w:
                for page_id, doc in docs:
                    w.delete_documents_by_term("page_id", page_id)  # upsert
                    w.add_document(doc)
            written += len(docs)
        return written

    def delete_document(self, document_id: int) -> None:
        with self._writer() as w:
            w.delete_documents_by_term("document_id", document_id)

    def clear(self) -> None:
        with self._writer() as w:
            w.delete_all_documents()

    def _require_present(self) -> None:
        """The directory removed under a running process (a wiped disk, a hand clean-up):
        searches would otherwise go on from the memory-mapped files of the old index, or
        fail with tantivy's lock error. Say what it is and the fix instead."""
        if not (self.path / "meta.json").is_file():
            raise SearchIndexUnreadable(
                f"搜索索引不可用：{self.path} 不存在 / the search index at {self.path} is gone",
                hint="运行 `dms reindex` 从数据库重建（服务无需停止） / run `dms reindex` to "
                     "rebuild it from the database (the server may keep running)")

    def refresh(self) -> None:
        self._require_present()
        try:
            self._index.reload()
        except ValueError as e:  # removed between the check and the reload
            self._require_present()
            raise SearchError(f"cannot reload the search index at {self.path}: {e}") from e

    def count(self) -> int:
        self._require_present()
        return int(self._index.searcher().num_docs)

    def close(self) -> None:
        # Nothing is held between calls (no writer); the reader goes with the object.
        pass

    # ---------------------------------------------------------------- querying
    def _tokens(self, text: str) -> list[str]:
        return list(self._analyzer.analyze(spaced_tokens(text)))

    def _text_query(self, tokens: list[str]) -> Query:
        words: list[str | tuple[int, str]] = list(tokens)
        suffix = ""
        for n, gram_suffix in GRAM_FIELDS:  # longest grams first: fewest position checks
            grams = han_ngrams(tokens, n)
            if grams is not None:
                suffix, words = gram_suffix, list(grams)
                break
        else:
            bigrams = han_bigrams(tokens)
            if bigrams is not None:  # 2-3 Chinese characters: one bigram or a pair
                suffix, words = BIGRAM_SUFFIX, list(bigrams)
        per_field = [  # tantivy panics on a one-word phrase: use a term query then
            Query.term_query(self._schema, f + suffix, _word(words[0])) if len(words) == 1
            else Query.phrase_query(self._schema, f + suffix, words)
            for f in TEXT_FIELDS
        ]
        if (joined := joined_query(tokens)) is not None:
            per_field += self._joined_queries(joined)
        return Query.boolean_query([(Occur.Should, q) for q in per_field])

    def _joined_queries(self, joined: str) -> list[Query]:
        """Latin words de-spaced: a phrase over their letter trigrams (search/latin.py)."""
        grams: list[str | tuple[int, str]] = list(query_grams(joined))
        return [Query.term_query(self._schema, f + LATIN_SUFFIX, _word(grams[0]))
                if len(grams) == 1 else
                Query.phrase_query(self._schema, f + LATIN_SUFFIX, grams)
                for f in TEXT_FIELDS]

    def _term_query(self, t: Term) -> Query | None:
        if t.field == "year":
            try:
                return Query.term_query(self._schema, "year", int(t.text))
            except ValueError as e:
                raise QueryError(f"year must be a number, got {t.text!r}") from e
        if t.field is not None:
            return Query.term_query(self._schema, t.field, t.key)
        tokens = self._tokens(t.text)
        clauses: list[tuple[Occur, Query]] = []
        if tokens:
            clauses.append((Occur.Should, self._text_query(tokens)))
        if t.identifier:
            for f in ("identifiers", "customer_no", "business_no"):
                exact = Query.term_query(self._schema, f, t.key)
                clauses.append((Occur.Should, Query.boost_query(exact, IDENTIFIER_BOOST)))
        if not clauses:
            return None  # e.g. pure punctuation: nothing to search for, ignored
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def _filter_queries(self, q: SearchQuery) -> list[Query]:
        out: list[Query] = []
        for field, values in q.filters.items():
            if field not in FILTER_FIELDS:
                raise QueryError(f"unknown filter field {field!r}",
                                 hint=f"one of {', '.join(FILTER_FIELDS)}")
            if not values:
                continue
            terms = [self._term_query(Term(v, field=field)) for v in values]
            out.append(Query.boolean_query([(Occur.Should, t) for t in terms if t]))
        if q.date_from or q.date_to:
            out.append(Query.range_query(
                self._schema, "date", tantivy.FieldType.Date,
                as_datetime(q.date_from) if q.date_from else None,
                as_datetime(q.date_to) if q.date_to else None,
            ))
        if q.allowed_teams is not None:
            out.append(Query.term_set_query(self._schema, "team", list(q.allowed_teams)))
        return out

    def build_query(self, parsed: ParsedQuery, q: SearchQuery) -> Query:
        clauses: list[tuple[Occur, Query]] = []
        for start, end, joined in word_runs(parsed.groups, self._tokens):
            if joined is not None:
                # Latin words typed one by one: each of them, or all of them run together
                # as OCR may have read them ("POWERSUPPLYCONTRACT").
                each = [w for t in (g[0] for g in parsed.groups[start:end])
                        if (w := self._term_query(t)) is not None]
                either = [Query.boolean_query([(Occur.Must, w) for w in each]),
                          *self._joined_queries(joined)]
                clauses.append((Occur.Must, Query.boolean_query(
                    [(Occur.Should, q) for q in either])))
                continue
            for group in parsed.groups[start:end]:
                subs = [s for s in (self._term_query(t) for t in group) if s is not None]
                if subs:
                    clauses.append((Occur.Must, subs[0] if len(subs) == 1 else
                                    Query.boolean_query([(Occur.Should, s) for s in subs])))
        for t in parsed.excluded:
            ex = self._term_query(t)
            if ex is not None:
                clauses.append((Occur.MustNot, ex))
        if not any(o == Occur.Must for o, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        # Filters must not change relevance: constant score 0.
        clauses += [(Occur.Must, Query.const_score_query(f, 0.0)) for f in self._filter_queries(q)]
        if len(clauses) == 1:
            # Same matches and scores without the wrapper, and a bare union of term
            # queries (a Chinese word) keeps tantivy's block-max WAND top-k pruning.
            return clauses[0][1]
        return Query.boolean_query(clauses)

    def _facets(self, searcher: tantivy.Searcher, query: Query) -> dict[str, dict[str, int]]:
        """Facet counts, all fields in one aggregation pass over the hits."""
        spec: dict[str, Any] = {f: {"terms": {"field": f, "size": FACET_SIZE}}
                                for f in FACET_FIELDS}
        raw: dict[str, Any] = searcher.aggregate(query, spec)
        return {f: {str(b["key"]): int(b["doc_count"])
                    for b in raw.get(f, {}).get("buckets", [])} for f in FACET_FIELDS}

    def search(self, q: SearchQuery) -> SearchResult:
        t0 = time.perf_counter()
        self._require_present()
        offset, limit = validate_paging(q)
        parsed = parse_query(q.text)
        query = self.build_query(parsed, q)
        searcher = self._index.searcher()
        phrases = [self._tokens(t.text) for t in parsed.positive_terms if t.field is None]
        by_date = q.sort != "relevance" or not parsed.groups  # no words: newest first
        # The total comes from the top-k pass (count=True). Counting there costs little:
        # a common word's scores are too flat for top-k pruning to skip much, and it is
        # cheaper than a value_count aggregation beside the facets (measured at 1M pages).
        if by_date:
            order = tantivy.Order.Asc if q.sort == "date_asc" else tantivy.Order.Desc
            res = searcher.search(query, limit, count=True, order_by_field="date",
                                  offset=offset, order=order)
        else:
            res = searcher.search(query, limit, count=True, offset=offset)
        hits = [_hit(searcher.doc(addr), 0.0 if by_date else float(key), phrases)
                for key, addr in res.hits]
        facets = self._facets(searcher, query) if q.facets else {}
        # .count exists at runtime (count=True) but is missing from the type stubs
        total = int(getattr(res, "count", 0) or 0)
        return SearchResult(total=total, hits=hits, facets=facets,
                            took_ms=(time.perf_counter() - t0) * 1000)

    def more_like_this(self, document_id: int, size: int = 10) -> SearchResult:
        t0 = time.perf_counter()
        searcher = self._index.searcher()
        own = Query.term_query(self._schema, "document_id", document_id)
        pages = searcher.search(own, 10_000).hits
        # the whitespace-collapsed text: whitespace is no token, so the terms are the same
        text = " ".join(_stored_bytes(searcher.doc(a), SNIPPET_TEXT_FIELD).decode()
                        for _, a in pages)
        if not text.strip():
            return SearchResult(total=0, hits=[], took_ms=(time.perf_counter() - t0) * 1000)
        mlt = Query.more_like_this_document_fields_query(
            self._schema, {"text": [spaced_tokens(text)]}, min_doc_frequency=1,
            min_term_frequency=1, max_query_terms=64, stop_words=MLT_STOP_WORDS)
        query = Query.boolean_query([(Occur.Must, mlt), (Occur.MustNot, own)])
        hits: dict[int, Hit] = {}
        # Pages come back; one best page per document. Over-fetch to fill ``size`` docs.
        for score, addr in searcher.search(query, size * 20).hits:
            hit = _hit(searcher.doc(addr), float(score), [])
            hits.setdefault(hit.document_id, hit)
            if len(hits) >= size:
                break
        return SearchResult(total=len(hits), hits=list(hits.values()),
                            took_ms=(time.perf_counter() - t0) * 1000)
