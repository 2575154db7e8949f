"""Health endpoint: is each seam reachable?"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from dms.domain.access import Action
from dms.web.access import requires, services

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@requires(Action.PUBLIC)
def healthz() -> Any:
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this endpoint exists to say what's wrong
        checks["database"] = f"error: {exc}"
    try:
        svc.store.exists("healthz/probe")
        checks["object_store"] = "ok"
    except Exception as exc:
        checks["object_store"] = f"error: {exc}"
    try:
        svc.index.count()
        checks["search_index"] = "ok"
    except Exception as exc:
        checks["search_index"] = f"error: {exc}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "degraded", "checks": checks}), 200 if ok else 503
