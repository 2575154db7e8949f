"""The search page and its JSON API; results respect the user's teams."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from dms.errors import InvalidInputError
from dms.web.auth import allowed_teams, login_required, services
from search import SearchQuery, SearchResult
from search.base import FILTER_FIELDS

bp = Blueprint("search", __name__)


def _query_from_request() -> SearchQuery:
    args = request.args

    def _date(name: str) -> date | None:
        v = args.get(name, "").strip()
        if not v:
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise InvalidInputError(f"{name} must be a date like 2024-01-31") from None

    sort = args.get("sort", "relevance")
    if sort not in ("relevance", "date_desc", "date_asc"):
        raise InvalidInputError("sort must be relevance, date_desc or date_asc")
    return SearchQuery(
        text=args.get("q", "").strip(),
        filters={f: args.getlist(f) for f in FILTER_FIELDS if args.getlist(f)},
        date_from=_date("from"), date_to=_date("to"), sort=sort,  # type: ignore[arg-type]
        page=max(1, args.get("page", 1, type=int)),
        size=min(100, max(1, args.get("size", 20, type=int))),
        allowed_teams=allowed_teams(),
    )


def _run(q: SearchQuery) -> SearchResult:
    index = services().index
    index.refresh()
    return index.search(q)


@bp.route("/search")
@login_required
def page() -> Any:
    q = _query_from_request()
    result = _run(q) if (q.text or q.filters) else None
    return render_template("search.html", q=q, result=result)


@bp.route("/api/v1/search")
@login_required
def api() -> Any:
    q = _query_from_request()
    r = _run(q)
    return jsonify({
        "total": r.total, "took_ms": r.took_ms, "facets": r.facets,
        "hits": [{"document_id": h.document_id, "page_no": h.page_no, "score": h.score,
                  "snippet": h.snippet, "fields": h.fields} for h in r.hits],
    })
