"""Where web requests translate errors: JSON for the API, a page for people."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from dms.errors import DmsError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DmsError)
    def _dms_error(exc: DmsError):  # type: ignore[no-untyped-def]
        if exc.http_status >= 500:
            log.exception("request failed: %s", exc)
        body = {"error": {"code": exc.code, "message": exc.message, "hint": exc.hint},
                "field": exc.field}
        if _wants_json():
            return jsonify(body), exc.http_status
        return render_template("error.html", status=exc.http_status, message=str(exc),
                               field=exc.field), exc.http_status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        field = "csrf_token" if isinstance(exc, CSRFError) else "body" if status == 413 else None
        if _wants_json():
            return jsonify({"error": {"code": exc.name.lower().replace(" ", "_"),
                                      "message": exc.description}, "field": field}), status
        return render_template("error.html", status=status, message=exc.description,
                               field=field), status
