"""The application factory."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, g
from werkzeug.routing import IntegerConverter

from dms.errors import SearchIndexUnreadable
from dms.services.container import Services, build_services
from dms.services.dispatch import Dispatcher
from dms.settings import Settings
from dms.web.i18n import get_locale, init_app as init_i18n, translate
from dms.web.security import install as install_security, resolve_secret_key
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher

log = logging.getLogger(__name__)


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: a row id, 1 .. 2**31-1 (PostgreSQL's INTEGER). A larger
    number is no row: 404, not an overflow error in the database driver (a 500)."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def create_app(settings: Settings, *, dispatcher: Dispatcher | None = None,
               services: Services | None = None) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=resolve_secret_key(settings),  # refuses a missing or known key
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Flask rejects a session cookie signed longer ago than this (from login).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        JSON_AS_ASCII=False,
    )
    install_security(app, settings)  # CSRF, Origin check, body limits, security headers
    init_i18n(app)  # gettext catalogs of dms.translations
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    svc = services or build_services(settings)
    if dispatcher is None:
        dispatcher = CeleryDispatcher(make_celery(settings))
    app.extensions["dms"] = svc
    app.extensions["dms_dispatcher"] = dispatcher
    if settings.search_backend == "tantivy":
        # Open the embedded index as the worker boots: opened lazily, a gunicorn worker
        # whose first search came after the directory was removed would create a new,
        # empty index and answer "no hits" instead of 503 naming `dms reindex`.
        try:
            svc.index  # noqa: B018
        except SearchIndexUnreadable as exc:  # serve anyway: search answers 503 naming the fix
            log.warning("search index unreadable at start: %s (%s)", exc.message, exc.hint)
    if svc.index_retry is None:  # index updates failing after commit: retried by the queue
        svc.index_retry = getattr(dispatcher, "reindex_documents", None)

    from dms.web import auth, documents, health, home, search_views
    from dms.web import physical
    from dms.web import review
    from dms.web import inbox
    from dms.web import reports
    from dms.web.events_api import events_api
    from dms.web.errors import register_error_handlers
    from dms.web.ingest_api import ingest_api
    from dms.web import batches

    for bp in (auth.bp, home.bp, documents.bp, search_views.bp, health.bp, ingest_api,
               physical.bp, review.bp, inbox.bp, events_api, reports.bp, batches.bp):
        app.register_blueprint(bp)
    from dms.web import openapi

    app.register_blueprint(openapi.bp)  # /api/openapi.json

    from dms.web import audit  # the admin audit page; its hook records reads of personal data
    app.register_blueprint(audit.bp)
    register_error_handlers(app)
    from dms.web import events_admin
    from dms.web.names import register_names
    from dms.web.timefilter import register_time_filter

    app.register_blueprint(events_admin.bp)
    register_time_filter(app, settings)
    register_names(app)

    @app.before_request
    def _defaults() -> None:
        g.default_locale = settings.default_locale

    @app.context_processor
    def _template_globals() -> dict[str, object]:
        from dms.domain.lifecycle import STATE_NAMES_ZH

        return {"_": translate, "locale": get_locale(), "user": auth.current_user(),
                "checklist": svc.checklist, "state_names": STATE_NAMES_ZH}

    return app
