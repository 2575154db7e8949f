"""What every request passes through (issue 16): the secret key, CSRF and Origin checks,
body limits per route, and the security headers on every response.

``install(app, settings)`` wires it into the application factory; nothing here is a view.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import Forbidden

from dms.errors import ConfigError, PayloadTooLargeError
from dms.settings import Settings

MIN_SECRET_KEY_LENGTH = 32
# Keys that were published (the old default, docker-compose's old fallback, README examples)
# or that people type when asked for one. A cookie signed with any of them forges a login.
KNOWN_SECRET_KEYS = frozenset({
    "dev-only-change-me", "change-me", "changeme", "change-me-please", "please-change-me",
    "secret", "secret-key", "secretkey", "dms", "dms-secret", "test", "development", "dev",
    "insecure", "default", "password", "your-secret-key", "set-me",
})

# Blueprints authenticated by a Bearer token, never by the session cookie: a cross-site page
# cannot make a browser send the token, so CSRF does not apply.
TOKEN_BLUEPRINTS = frozenset({"ingest_api", "events_api"})
# The only endpoints whose body may be large (scanner uploads, streamed to disk).
UPLOAD_ENDPOINTS = frozenset({"ingest_api.upload"})
UPLOAD_LIMIT = 2 * 1024**3
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",  # no inline script: behaviour lives in static/dms.js
    "style-src 'self' 'unsafe-inline'",  # a few style="" attributes; styles cannot run code
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


def ensure_secret_key_file(settings: Settings) -> Path:
    """The embedded default's key: generated once into ``data_dir/secret_key`` (mode 0600)."""
    f = settings.secret_key_file
    if not f.exists():
        f.parent.mkdir(parents=True, exist_ok=True)
        f.touch(mode=0o600)
        f.chmod(0o600)
        f.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return f


def resolve_secret_key(settings: Settings) -> str:
    """``DMS_SECRET_KEY``, else the key `dms up` generated into the data directory, checked.

    Outside debug mode a missing, published or short key is a ConfigError: the server does
    not start, since anyone knowing the key can sign an administrator's session cookie.
    """
    key = settings.secret_key.get_secret_value()
    if not key and settings.secret_key_file.exists():
        key = settings.secret_key_file.read_text(encoding="utf-8").strip()
    problem = None
    if not key:
        problem = "DMS_SECRET_KEY is not set"
    elif key.strip().lower() in KNOWN_SECRET_KEYS:
        problem = "DMS_SECRET_KEY is a published or well-known value"
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        problem = f"DMS_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if problem is None:
        return key
    if settings.debug:
        return key or "debug-only-" + secrets.token_urlsafe(16)
    raise ConfigError(problem, hint="generate one: python -c 'import secrets; "
                                    "print(secrets.token_urlsafe(48))' (or run `dms up`, which "
                                    "keeps one in the data directory); DMS_DEBUG=1 only for "
                                    "development")


def _same_origin(public_url: str) -> bool:
    """True if the browser says the request comes from a page of this site: the public URL's
    origin (a TLS proxy may hide the scheme from us) or this very host and scheme."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    if public_url:
        public = urlsplit(public_url)
        if (parts.scheme, parts.netloc) == (public.scheme, public.netloc):
            return True
    return bool(parts.netloc) and parts.netloc == request.host and \
        parts.scheme == request.scheme


def install(app: Flask, settings: Settings) -> CSRFProtect:
    secure = bool(settings.secure_cookies)
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, with the token APIs exempt
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session; the session itself expires
        MAX_CONTENT_LENGTH=UPLOAD_LIMIT,  # the uploads' limit; every other route is smaller
    )
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    csrf = CSRFProtect(app)
    small_limit = int(settings.body_limit_mb * 1024 * 1024)

    @app.before_request
    def _limit_body() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            return
        request.max_content_length = small_limit
        if request.content_length is not None and request.content_length > small_limit:
            raise PayloadTooLargeError(
                f"the request body is larger than {settings.body_limit_mb:g} MB",
                field="body")

    @app.before_request
    def _check_csrf() -> None:
        if request.method in SAFE_METHODS or not app.config["WTF_CSRF_ENABLED"]:
            return
        if request.blueprint in TOKEN_BLUEPRINTS:
            return
        if request.path.startswith("/api/"):
            # Browser-facing JSON: a page of this site (Origin/Referer), or the token header.
            if _same_origin(settings.public_url):
                return
            if not request.headers.get("X-CSRFToken"):
                raise Forbidden("cross-site request refused: send a same-origin Origin "
                                "header or X-CSRFToken")
        csrf.protect()

    @app.after_request
    def _headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        # Query strings carry customer numbers and ID numbers: never send them elsewhere.
        h.setdefault("Referrer-Policy", "same-origin")
        if secure or request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        h.pop("Server", None)
        return resp

    return csrf


__all__ = ["CSRFError", "install", "resolve_secret_key", "ensure_secret_key_file"]
