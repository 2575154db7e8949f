"""Full-text search over OCR'd pages: one interface, two backends (tantivy, Elasticsearch)."""
from search.base import Hit, PageDoc, SearchIndex, SearchQuery, SearchResult
from search.query import ParsedQuery, parse_query
from search.registry import make_search_index, register_search_index

__all__ = [
    "Hit",
    "PageDoc",
    "ParsedQuery",
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "make_search_index",
    "parse_query",
    "register_search_index",
]
