"""Issue 16, "Open redirects" and "Cross-site requests": CSRF tokens on every form, an Origin
check on browser-facing JSON, local redirects only, security headers, no inline script."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dms.db.models import Box
from dms.settings import load_settings
from dms.web.app import create_app
from tests.ingest.conftest import RecordingDispatcher
from tests.web.conftest import Web, csrf_token, login

TEMPLATES = Path(__file__).resolve().parents[2] / "dms" / "web" / "templates"
EVIL = "https://evil.example"


def test_form_post_without_csrf_token_is_refused(web: Web) -> None:
    c = web.client()
    r = c.post("/login", data={"username": "arch", "password": "hardening-pw-1"})
    assert r.status_code == 400
    login(c, "arch")
    # The attack: a cross-site form post that changes the archive.
    r = c.post("/physical/boxes", data={"count": "3", "capacity": "5"},
               headers={"Origin": EVIL})
    assert r.status_code == 400 and "csrf" in r.get_data(as_text=True).lower()
    with web.services.sessions() as s:
        assert s.scalar(select(func.count(Box.id))) == 0
    r = c.post("/physical/boxes", data={"count": "3", "capacity": "5",
                                        "csrf_token": csrf_token(c, "/physical/")})
    assert r.status_code == 302
    with web.services.sessions() as s:
        assert s.scalar(select(func.count(Box.id))) == 3


def test_browser_json_needs_same_origin_or_token(web: Web) -> None:
    c = web.client()
    login(c, "arch")
    body = {"count": 1, "capacity": 5}
    assert c.post("/api/physical/boxes", json=body, headers={"Origin": EVIL}).status_code == 403
    assert c.post("/api/physical/boxes", json=body).status_code == 403  # no Origin, no token
    ok = c.post("/api/physical/boxes", json=body, headers={"Origin": "http://localhost"})
    assert ok.status_code == 201, ok.get_json()
    token = csrf_token(c, "/physical/")
    assert c.post("/api/physical/boxes", json=body,
                  headers={"X-CSRFToken": token}).status_code == 201


def test_token_apis_are_not_subject_to_csrf(web: Web) -> None:
    # Bearer-token APIs: refused for the token, never for a missing CSRF token.
    r = web.client().post("/api/v1/events", json={"event_id": "x"})
    assert r.status_code == 401
    r = web.client().post("/api/v1/ingest/batches", json={},
                          headers={"Authorization": "Bearer tok-123456"})
    assert r.status_code == 201


@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "//evil.example/x",
                                    "https://evil.example/", "/\\evil.example",
                                    "/ok%0d%0aSet-Cookie:x=1", "javascript:alert(1)"])
def test_login_next_stays_local(web: Web, target: str) -> None:
    c = web.client()
    token = csrf_token(c)
    r = c.post(f"/login?next={target}", data={"username": "arch",
                                              "password": "hardening-pw-1",
                                              "csrf_token": token})
    assert r.status_code == 302
    assert r.location == "/", r.location


def test_login_next_keeps_a_local_path(web: Web) -> None:
    c = web.client()
    token = csrf_token(c)
    r = c.post("/login?next=/customers?q=1", data={"username": "arch",
                                                    "password": "hardening-pw-1",
                                                    "csrf_token": token})
    assert r.location == "/customers?q=1"


def test_lang_and_form_redirects_stay_local(web: Web) -> None:
    c = web.client()
    assert c.get("/lang/en", headers={"Referer": EVIL + "/x"}).location == "/"
    assert c.get("/lang/en", headers={"Referer": "http://localhost/customers"}).location \
        == "/customers"
    login(c, "boss")
    r = c.post("/review/confirm", data={"next": EVIL, "csrf_token": csrf_token(c, "/review")})
    assert r.status_code == 302 and not r.location.startswith(EVIL)


def test_newline_in_next_is_not_a_500(web: Web) -> None:
    """On main a newline in ``next`` reached the Location header: a 500."""
    c = web.client()
    r = c.post("/login?next=/a%0ab", data={"username": "arch", "password": "hardening-pw-1",
                                           "csrf_token": csrf_token(c, "/login?next=/a%0ab")})
    assert r.status_code == 302 and r.location == "/"


def test_security_headers_on_every_response(web: Web) -> None:
    c = web.client()
    for path in ("/login", "/healthz", "/static/dms.css", "/no-such-page"):
        h = c.get(path).headers
        csp = h["Content-Security-Policy"]
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert "Server" not in h
        assert "Strict-Transport-Security" not in h  # plain HTTP: no HSTS


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_templates_have_no_inline_script() -> None:
    for t in _templates():
        html = t.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), t.name
        assert not re.search(r"\son[a-z]+\s*=", html), t.name


def test_every_post_form_carries_a_csrf_token() -> None:
    forms = 0
    for t in _templates():
        html = t.read_text(encoding="utf-8")
        for m in re.finditer(r"<form[^>]*method=\"?post[^>]*>", html, re.I):
            forms += 1
            assert html[m.end():].lstrip().startswith(
                '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'), \
                f"{t.name}: {m.group(0)}"
    assert forms >= 15


def test_public_url_origin_counts_as_same_origin(web: Web) -> None:
    """Behind a TLS proxy the app sees http://; the browser sends the public https origin."""
    proxied = load_settings(data_dir=web.settings.data_dir, secret_key="p" * 40,
                            public_url="https://archive.example.cn", secure_cookies=False,
                            _env_file=None)
    c = create_app(proxied, dispatcher=RecordingDispatcher(), services=web.services).test_client()
    login(c, "arch")
    body = {"count": 1}
    ok = c.post("/api/physical/boxes", json=body,
                headers={"Origin": "https://archive.example.cn"})
    assert ok.status_code == 201, ok.get_json()
    assert c.post("/api/physical/boxes", json=body,
                  headers={"Origin": "https://archive.example.cn.evil.example"}).status_code \
        == 403
