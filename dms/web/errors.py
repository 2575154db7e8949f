"""Where web requests translate errors: JSON for the API, a page for people."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from dms.errors import DatabaseUnavailableError, DmsError
from dms.web.i18n import HTTP_TITLES_ZH

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
        return render_template("error.html", status=exc.http_status, detail=str(exc),
                               title=HTTP_TITLES_ZH.get(exc.http_status, HTTP_TITLES_ZH[500]),
                               field=exc.field), exc.http_status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(exc: Exception):  # type: ignore[no-untyped-def]
        # A lost connection (a restart, a failover) is the server's state, not a bug: say so
        # with 503 and Retry-After. The pool's pre-ping reconnects once it is back.
        log.error("database unavailable: %s", exc)
        resp, status = _dms_error(DatabaseUnavailableError(
            "数据库暂时不可用，本次操作未保存 / the database is unavailable; nothing of this "
            "request was saved", hint="请稍后重试 / retry in a few seconds"))
        resp = app.make_response((resp, status))
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        field = "csrf_token" if isinstance(exc, CSRFError) else "body" if status == 413 else None
        if _wants_json():
            return jsonify({"error": {"code": exc.name.lower().replace(" ", "_"),
                                      "message": exc.description}, "field": field}), status
        # werkzeug's stock description is English prose: the title says it; a view's own
        # description is shown as technical detail.
        detail = exc.description if exc.description != type(exc).description else None
        return render_template("error.html", status=status, detail=detail,
                               title=HTTP_TITLES_ZH.get(status, HTTP_TITLES_ZH[500]),
                               field=field), status
