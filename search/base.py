"""The search seam: value types and the ``SearchIndex`` protocol every backend implements.

Both backends (embedded tantivy, Elasticsearch) take the same ``SearchQuery`` and
return the same ``SearchResult``; the query language is parsed once by us
(``search.query``) so that a query means the same thing whichever backend runs it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol, runtime_checkable

from errorkit import QueryError

SortOrder = Literal["relevance", "date_desc", "date_asc"]

# Keyword fields a caller may filter on (``SearchQuery.filters``) and that get facet counts.
FILTER_FIELDS: tuple[str, ...] = (
    "doc_type", "business_type", "state", "team", "customer_no", "year",
)
FACET_FIELDS: tuple[str, ...] = ("doc_type", "business_type", "state", "team", "year")
# Upper bound of facet buckets returned per field; the UI shows a short list anyway.
FACET_SIZE = 100


@dataclass
class PageDoc:
    """One OCR'd page: the unit that is indexed and returned as a hit."""

    page_id: str  # unique, e.g. f"{document_id}:{page_no}"; the upsert key
    document_id: int
    page_no: int  # 1-based
    text: str
    customer_no: str
    customer_name: str = ""
    business_no: str = ""
    business_type: str = ""
    doc_type: str = ""
    team: str = ""
    state: str = ""
    date: dt.date | None = None
    identifiers: list[str] = field(default_factory=list)  # contract no, ID no, meter no...
    location: str = ""
    title: str = ""


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    sort: SortOrder = "relevance"
    page: int = 1
    size: int = 20
    # None = no restriction; a list restricts hits (and facet counts) to these teams.
    allowed_teams: list[str] | None = None
    facets: bool = True


@dataclass
class Hit:
    document_id: int
    page_no: int
    page_id: str
    score: float  # relevance score; 0.0 when sorted by date
    snippet: str  # HTML-safe: escaped text with <mark>..</mark> around matches
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    took_ms: float = 0.0


@runtime_checkable
class SearchIndex(Protocol):
    name: str

    def index_pages(self, pages: Iterable[PageDoc]) -> int:
        """Insert or replace (by ``page_id``) pages; returns how many were written."""
        ...

    def delete_document(self, document_id: int) -> None: ...

    def search(self, q: SearchQuery) -> SearchResult: ...

    def more_like_this(self, document_id: int, size: int = 10) -> SearchResult:
        """Other documents (one best page each) similar to ``document_id``, never itself."""
        ...

    def refresh(self) -> None:
        """Make all completed writes (also other processes') visible to searches."""
        ...

    def clear(self) -> None: ...

    def count(self) -> int:
        """Number of indexed pages."""
        ...

    def close(self) -> None: ...


def page_to_source(page: PageDoc) -> dict[str, Any]:
    """JSON-able copy of a page as given (original text), stored by every backend."""
    # Field by field, not dataclasses.asdict: asdict deep-copies recursively and was a
    # tenth of the per-page indexing cost.
    src: dict[str, Any] = {name: getattr(page, name) for name in _PAGE_FIELD_ORDER}
    src["identifiers"] = list(page.identifiers)
    src["date"] = page.date.isoformat() if page.date else None
    return src


def page_from_source(src: dict[str, Any]) -> PageDoc:
    data = {k: v for k, v in src.items() if k in _PAGE_FIELDS}
    if data.get("date"):
        data["date"] = dt.date.fromisoformat(data["date"])
    return PageDoc(**data)


def hit_fields(src: dict[str, Any]) -> dict[str, Any]:
    """The metadata returned in ``Hit.fields``: everything but the big text and the keys."""
    return {k: v for k, v in src.items()
            if k in _PAGE_FIELDS and k not in ("text", "page_id", "document_id", "page_no")}


def hit_from_source(src: dict[str, Any], score: float, snippet: str) -> Hit:
    """A hit straight from the stored source (no PageDoc: a hit needs four of its keys)."""
    return Hit(document_id=int(src["document_id"]), page_no=int(src["page_no"]),
               page_id=str(src["page_id"]), score=score, snippet=snippet,
               fields=hit_fields(src))


def validate_paging(q: SearchQuery) -> tuple[int, int]:
    """(offset, limit) for a query; bad paging is a caller bug, reported as QueryError."""
    if q.page < 1 or q.size < 1 or q.size > 1000:
        raise QueryError(f"invalid paging page={q.page} size={q.size}",
                         hint="page >= 1, 1 <= size <= 1000")
    return (q.page - 1) * q.size, q.size


_PAGE_FIELD_ORDER = tuple(f.name for f in fields(PageDoc))
_PAGE_FIELDS = frozenset(_PAGE_FIELD_ORDER)
