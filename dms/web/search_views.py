"""The search page and its JSON API; results respect the user's teams."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, render_template, request

from dms.db.models import Document
from dms.errors import InvalidInputError
from dms.services.indexing import document_team_code
from dms.domain.access import Action
from dms.domain.personal_data import mask_text, mask_value
from dms.web.access import allowed_teams, requires, sees_personal_data, services
from dms.web.params import MAX_SEARCH_WINDOW, int_arg
from search import SearchQuery, SearchResult
from search.base import FACET_FIELDS, FILTER_FIELDS

bp = Blueprint("search", __name__)

# Facet headings, Chinese first (English through the i18n catalog).
FACET_LABELS = {"doc_type": "文档类型", "business_type": "业务类型", "state": "状态",
                "team": "班组", "year": "年份"}
SORTS = ("relevance", "date_desc", "date_asc")
# Parameters that make up a search; pagination and facet links carry all of them.
_SEARCH_PARAMS = ("q", "sort", "from", "to", "size", *FILTER_FIELDS)
MLT_SIZE = 10
MAX_QUERY_CHARS = 500  # a query or filter value; longer is not a search but an attack
MAX_VALUES = 20


def _query_from_request() -> SearchQuery:
    args = request.args

    def _date(name: str) -> date | None:
        v = args.get(name, "").strip()
        if not v:
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise InvalidInputError(f"{name} must be a date like 2024-01-31",
                                    field=name) from None

    sort = args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        raise InvalidInputError("sort must be relevance, date_desc or date_asc", field="sort")
    filters = {f: [v for v in args.getlist(f) if v.strip()] for f in FILTER_FIELDS}
    for name, values in (("q", args.getlist("q")), *filters.items()):
        if len(values) > MAX_VALUES or any(len(v) > MAX_QUERY_CHARS for v in values):
            raise InvalidInputError(f"{name}: at most {MAX_VALUES} values of "
                                    f"{MAX_QUERY_CHARS} characters", field=name)
    size = int_arg("size", 20, lo=1, hi=100)
    page = int_arg("page", 1, lo=1, hi=MAX_SEARCH_WINDOW // size)
    return SearchQuery(
        text=args.get("q", "").strip(),
        filters={f: vs for f, vs in filters.items() if vs},
        date_from=_date("from"), date_to=_date("to"), sort=sort,  # type: ignore[arg-type]
        page=page, size=size,
        allowed_teams=allowed_teams(),
    )


def search_url(*, page: int | None = None, add: tuple[str, str] | None = None,
               remove: tuple[str, str] | None = None) -> str:
    """The current search's URL with one change; every filter, date and sort is kept.

    Adding or removing a filter starts again at page 1.
    """
    pairs = [(k, v) for k in _SEARCH_PARAMS for v in request.args.getlist(k) if v.strip()]
    if remove is not None:
        pairs = [p for p in pairs if p != remove]
    if add is not None and add not in pairs:
        pairs.append(add)
    if page is not None and page > 1:
        pairs.append(("page", str(page)))
    return "?" + urlencode(pairs)


def _run(q: SearchQuery) -> SearchResult:
    index = services().index
    index.refresh()
    return _masked(index.search(q))


def _masked(result: SearchResult) -> SearchResult:
    """Snippets and fields with personal data masked unless the policy shows it."""
    if sees_personal_data():
        return result
    result.hits = [replace(h, snippet=mask_text(h.snippet), fields=mask_value(h.fields))
                   for h in result.hits]
    return result


@bp.route("/search")
@requires(Action.DOCUMENT_READ)
def page() -> Any:
    q = _query_from_request()
    searched = bool(q.text or q.filters or q.date_from or q.date_to)
    result = _run(q) if searched else None
    active = [(f, v) for f, vs in q.filters.items() for v in vs]
    return render_template("search.html", q=q, result=result, active=active,
                           facet_fields=FACET_FIELDS, facet_labels=FACET_LABELS,
                           search_url=search_url, similar_to=None)


@bp.route("/search/similar/<int:doc_id>")
@requires(Action.DOCUMENT_READ)
def similar(doc_id: int) -> Any:
    """"More like this": documents whose text resembles ``doc_id``'s, within the user's
    teams (the source document must be visible to the user as well)."""
    teams = allowed_teams()
    with services().sessions() as s:
        doc = s.get(Document, doc_id)
        if doc is None:
            abort(404)
        team = document_team_code(s, doc)
        title = doc.title or doc.source_name
    if teams is not None and team not in teams:
        abort(403)
    index = services().index
    index.refresh()
    # Over-fetch, then keep what the user may see.
    found = index.more_like_this(doc_id, size=MLT_SIZE * 3 if teams is not None else MLT_SIZE)
    hits = [h for h in found.hits if teams is None or h.fields.get("team") in teams][:MLT_SIZE]
    result = _masked(SearchResult(total=len(hits), hits=hits, took_ms=found.took_ms))
    return render_template("search.html", q=SearchQuery(), result=result, active=[],
                           facet_fields=FACET_FIELDS, facet_labels=FACET_LABELS,
                           search_url=search_url, similar_to={"id": doc_id, "title": title})


@bp.route("/api/v1/search")
@requires(Action.DOCUMENT_READ)
def api() -> Any:
    q = _query_from_request()
    r = _run(q)
    return jsonify({
        "total": r.total, "took_ms": r.took_ms, "facets": r.facets,
        "hits": [{"document_id": h.document_id, "page_no": h.page_no, "score": h.score,
                  "snippet": h.snippet, "fields": h.fields} for h in r.hits],
    })
