"""Issue 16, sessions: logout by POST only; a cookie stops working after logout or a password
change; Secure cookies by setting; a bounded session lifetime."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient

from dms.db.session import session_scope
from dms.services.users import change_password
from dms.settings import load_settings
from dms.web.app import create_app
from tests.ingest.conftest import RecordingDispatcher
from tests.web.conftest import Web, csrf_token, login


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_logout_by_get_is_refused(web: Web) -> None:
    c = web.client()
    login(c, "arch")
    assert c.get("/logout").status_code == 405
    assert c.get("/").status_code == 200  # still logged in


def test_logout_revokes_a_copied_cookie(web: Web) -> None:
    c = web.client()
    login(c, "arch")
    stolen = _session_cookie(c)
    r = c.post("/logout", data={"csrf_token": csrf_token(c, "/")})
    assert r.status_code == 302
    thief = web.client()
    thief.set_cookie("session", stolen)
    r = thief.get("/")
    assert r.status_code == 302 and "/login" in r.location


def test_logout_needs_the_csrf_token(web: Web) -> None:
    c = web.client()
    login(c, "arch")
    assert c.post("/logout").status_code == 400  # a cross-site page cannot log people out
    assert c.get("/").status_code == 200


def test_password_change_revokes_sessions(web: Web) -> None:
    c = web.client()
    login(c, "ha")
    assert c.get("/").status_code == 200
    with session_scope(web.services.sessions) as s:
        change_password(s, "ha", "a-brand-new-passphrase")
    assert c.get("/").status_code == 302
    login(c, "ha", "a-brand-new-passphrase")
    assert c.get("/").status_code == 200


def test_secure_cookies_follow_the_public_url(tmp_path: Path, web: Web) -> None:
    plain = web.client()
    login(plain, "arch")
    assert plain.get_cookie("session").secure is False  # type: ignore[union-attr]
    https = load_settings(data_dir=web.settings.data_dir, secret_key="s" * 40,
                          public_url="https://archive.example.cn", _env_file=None)
    assert https.secure_cookies is True
    app = create_app(https, dispatcher=RecordingDispatcher(), services=web.services)
    c = app.test_client()
    page = c.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post("/login", data={"username": "arch", "password": "hardening-pw-1",
                               "csrf_token": token}, base_url="https://localhost",
               headers={"Referer": "https://localhost/login"})
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in r.headers
    explicit = load_settings(data_dir=tmp_path, secure_cookies=True, _env_file=None)
    assert explicit.secure_cookies is True


def test_session_lifetime_is_a_working_day(web: Web) -> None:
    assert web.app.permanent_session_lifetime <= timedelta(hours=8)
