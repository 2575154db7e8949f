"""Scale-out search backend: Elasticsearch 8 (request bodies in ``search.es_requests``).

Writes go to a concrete index ``<name>-v<N>`` behind the alias ``<name>``; a full
reindex builds ``<name>-v<N+1>`` (``begin_reindex``), fills it, and swaps the alias
atomically (``finish_reindex``), so searches never see a half-built index.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from errorkit import MissingDependencyError, SearchError
from search.analysis import make_snippet, tokenize
from search.base import (
    FACET_FIELDS,
    PageDoc,
    SearchQuery,
    SearchResult,
    hit_from_source,
)
from search.es_requests import (
    build_alias_swap,
    build_bulk_actions,
    build_index_body,
    build_more_like_this_body,
    build_search_body,
    next_index_version,
    sorts_by_date,
    versioned_index_name,
)
from search.query import parse_query

BULK_PAGES = 500
RETRY_STATUSES = frozenset({429})  # "too many requests": the cluster asks us to slow down

BulkSender = Callable[[list[dict[str, Any]]], dict[str, Any]]


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)  # elasticsearch.ApiError
    return status if isinstance(status, int) else None


def bulk_with_backoff(send: BulkSender, operations: list[dict[str, Any]], *,
                      max_retries: int = 5, initial_backoff: float = 0.5,
                      sleep: Callable[[float], None] = time.sleep) -> int:
    """Send ``index`` operations, retrying rejected (429) requests or items with
    exponential backoff; returns the number written. Other failures raise SearchError.

    ``send`` takes flat bulk operations and returns the bulk response body; it is a
    parameter so the retry policy is testable without a server.
    """
    pending = list(zip(operations[0::2], operations[1::2], strict=True))
    attempt = 0
    written = 0
    while pending:
        try:
            resp = send([op for pair in pending for op in pair])
        except Exception as e:
            if _status(e) not in RETRY_STATUSES or attempt >= max_retries:
                raise
            sleep(initial_backoff * 2 ** attempt)
            attempt += 1
            continue
        retry = []
        for pair, item in zip(pending, resp.get("items", []), strict=True):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status < 300:
                written += 1
            elif status in RETRY_STATUSES:
                retry.append(pair)
            else:
                raise SearchError(f"Elasticsearch rejected page {result.get('_id')!r}: "
                                  f"{result.get('error')}")
        if retry:
            if attempt >= max_retries:
                raise SearchError(f"Elasticsearch still rejects {len(retry)} pages (429) "
                                  f"after {max_retries} retries", hint="cluster overloaded")
            sleep(initial_backoff * 2 ** attempt)
            attempt += 1
        pending = retry
    return written


def parse_search_response(resp: dict[str, Any], phrases: list[list[str]],
                          by_date: bool, took_ms: float) -> SearchResult:
    hits = []
    for h in resp.get("hits", {}).get("hits", []):
        src = h["_source"]["page"]
        score = 0.0 if by_date else float(h.get("_score") or 0.0)
        hits.append(hit_from_source(src, score, make_snippet(src["text"], phrases)))
    total = resp.get("hits", {}).get("total", {})
    aggs = resp.get("aggregations", {})
    facets = {f: {str(b["key"]): int(b["doc_count"]) for b in aggs[f]["buckets"]}
              for f in FACET_FIELDS if f in aggs}
    return SearchResult(total=int(total.get("value", 0)) if isinstance(total, dict)
                        else int(total), hits=hits, facets=facets, took_ms=took_ms)


class ElasticsearchIndex:
    name = "elasticsearch"

    def __init__(self, url: str, index_name: str, client: Any = None, *,
                 max_retries: int = 5, initial_backoff: float = 0.5) -> None:
        self._owns_client = client is None
        if client is None:
            try:
                from elasticsearch import Elasticsearch
            except ImportError as e:
                raise MissingDependencyError("the elasticsearch package is not installed",
                                             hint="pip install 'elasticsearch>=8.13,<9'") from e
            client = Elasticsearch(url, request_timeout=30)
        self._es = client
        self.alias = index_name
        self._max_retries = max_retries
        self._initial_backoff = initial_backoff
        self._reindex_target: str | None = None
        with self._errors():
            if not self._aliased_indices():
                self._es.indices.create(index=versioned_index_name(self.alias, 1),
                                        aliases={self.alias: {"is_write_index": True}},
                                        **build_index_body())

    @contextmanager
    def _errors(self) -> Iterator[None]:
        from elasticsearch import ApiError, TransportError

        try:
            yield
        except (ApiError, TransportError) as e:
            raise SearchError(f"Elasticsearch request failed: {e}") from e

    def _aliased_indices(self) -> list[str]:
        from elasticsearch import NotFoundError

        try:
            return sorted(self._es.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def _targets(self) -> str:
        """Alias plus the index being rebuilt, so deletes/refreshes reach both."""
        return f"{self.alias},{self._reindex_target}" if self._reindex_target else self.alias

    # ---------------------------------------------------------------- reindex
    def begin_reindex(self) -> str:
        """Create an empty ``<alias>-v<N+1>``; ``index_pages`` writes there until finish."""
        with self._errors():
            existing = list(self._es.indices.get(index=f"{self.alias}-v*").body)
            new = versioned_index_name(self.alias, next_index_version(self.alias, existing))
            self._es.indices.create(index=new, **build_index_body())
        self._reindex_target = new
        return new

    def finish_reindex(self) -> None:
        new = self._reindex_target
        if new is None:
            raise SearchError("finish_reindex() without begin_reindex()")
        with self._errors():
            old = self._aliased_indices()
            self._es.indices.refresh(index=new)
            self._es.indices.update_aliases(**build_alias_swap(self.alias, old, new))
            for index in old:
                self._es.indices.delete(index=index)
        self._reindex_target = None

    def abort_reindex(self) -> None:
        if self._reindex_target:
            with self._errors():
                self._es.indices.delete(index=self._reindex_target)
            self._reindex_target = None

    # ---------------------------------------------------------------- writing
    def index_pages(self, pages: Iterable[PageDoc]) -> int:
        target = self._reindex_target or self.alias
        it = iter(pages)
        written = 0
        while batch := list(islice(it, BULK_PAGES)):
            with self._errors():
                written += bulk_with_backoff(
                    lambda ops: dict(self._es.bulk(operations=ops).body),
                    build_bulk_actions(batch, target),
                    max_retries=self._max_retries, initial_backoff=self._initial_backoff)
        return written

    def delete_document(self, document_id: int) -> None:
        with self._errors():
            self._es.delete_by_query(index=self._targets(), conflicts="proceed", refresh=True,
                                     query={"term": {"document_id": document_id}})

    def clear(self) -> None:
        with self._errors():
            self._es.delete_by_query(index=self._targets(), conflicts="proceed", refresh=True,
                                     query={"match_all": {}})

    def refresh(self) -> None:
        with self._errors():
            self._es.indices.refresh(index=self._targets())

    def count(self) -> int:
        with self._errors():
            return int(self._es.count(index=self.alias)["count"])

    def close(self) -> None:
        if self._owns_client:
            self._es.close()

    # ---------------------------------------------------------------- querying
    def search(self, q: SearchQuery) -> SearchResult:
        t0 = time.perf_counter()
        parsed = parse_query(q.text)
        body = build_search_body(q)
        with self._errors():
            resp = self._es.search(index=self.alias, body=body).body
        phrases = [tokenize(t.text) for t in parsed.positive_terms if t.field is None]
        return parse_search_response(resp, phrases, sorts_by_date(parsed, q),
                                     (time.perf_counter() - t0) * 1000)

    def more_like_this(self, document_id: int, size: int = 10) -> SearchResult:
        t0 = time.perf_counter()
        with self._errors():
            own = self._es.search(index=self.alias, body={
                "query": {"term": {"document_id": document_id}},
                "size": 10_000, "_source": ["page.text"]}).body
            text = " ".join(h["_source"]["page"]["text"] for h in own["hits"]["hits"])
            if not text.strip():
                return SearchResult(total=0, hits=[])
            resp = self._es.search(index=self.alias,
                                   body=build_more_like_this_body(text, document_id, size)).body
        result = parse_search_response(resp, [], False, (time.perf_counter() - t0) * 1000)
        result.total = len(result.hits)  # collapsed: count documents, not pages
        return result
