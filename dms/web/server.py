"""Serving the web app: gunicorn by default, Flask's development server only on request.

``dms serve`` and ``dms up`` both come here (issue 16: both ran the development server, whose
``Server`` header named the Werkzeug and Python versions).
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.serving import WSGIRequestHandler

from dms.log_redaction import RedactPersonalData
from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from dms.settings import Settings
from dms.web.app import create_app
from dms.web.security import resolve_secret_key

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4  # gthread: a slow download does not hold a whole worker


class _RedactingLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's access and error logs with ID, phone and bank account numbers masked:
    search and dispute look-ups by such a number would otherwise put it in every request
    line."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactPersonalData())


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code; each worker builds its own app after the fork, so no
    database connection or thread is shared across processes."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int,
                 threads: int) -> None:
        self.settings, self.bind = settings, f"{host}:{port}"
        self.workers, self.threads = workers, threads
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", self.bind)
        self.cfg.set("workers", self.workers)
        self.cfg.set("threads", self.threads)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("timeout", 120)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", "-")  # request lines to stdout, personal data masked
        self.cfg.set("logger_class", _RedactingLogger)
        # Request lines and headers are bounded by gunicorn itself (limit_request_line 4094).

    def load(self) -> Flask:
        return create_app(self.settings)


def run_production(settings: Settings, host: str, port: int, *,
                   workers: int = DEFAULT_WORKERS, threads: int = DEFAULT_THREADS) -> None:
    resolve_secret_key(settings)  # refuse a weak key here, in the foreground, not per worker
    _Gunicorn(settings, host, port, max(1, workers), max(1, threads)).run()


class _QuietHandler(WSGIRequestHandler):
    """The development server's handler without the version banner."""

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return "dms"

    def version_string(self) -> str:
        return "dms"


def run_development(settings: Settings, host: str, port: int, *,
                    dispatcher: Dispatcher | None = None,
                    services: Services | None = None) -> None:
    app = create_app(settings, dispatcher=dispatcher, services=services)
    run: Any = app.run
    run(host=host, port=port, threaded=True, use_reloader=False, request_handler=_QuietHandler)
