"""The application factory."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, g

from dms.services.container import Services, build_services
from dms.services.dispatch import Dispatcher
from dms.settings import Settings
from dms.web.i18n import get_locale, translate
from dms.worker.celery_app import make_celery
from dms.worker.dispatcher import CeleryDispatcher


def create_app(settings: Settings, *, dispatcher: Dispatcher | None = None,
               services: Services | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=2 * 1024**3,  # scanner batches can be large; streamed to disk
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    svc = services or build_services(settings)
    if dispatcher is None:
        dispatcher = CeleryDispatcher(make_celery(settings))
    app.extensions["dms"] = svc
    app.extensions["dms_dispatcher"] = dispatcher

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
    register_error_handlers(app)

    @app.before_request
    def _defaults() -> None:
        g.default_locale = settings.default_locale

    @app.context_processor
    def _template_globals() -> dict[str, object]:
        from dms.domain.lifecycle import STATE_NAMES_ZH

        return {"_": translate, "locale": get_locale(), "user": auth.current_user(),
                "checklist": svc.checklist, "state_names": STATE_NAMES_ZH}

    return app
