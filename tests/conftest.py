"""Shared fixtures: settings in a temp dir, throwaway PostgreSQL and Redis servers, and the
web fixtures (``app``, ``client``, ``runner``, ``login_as``) on a migrated archive."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.migrate import upgrade
from dms.db.models import User
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.users import create_user
from dms.settings import Settings, load_settings
from dms.testing.dispatch import RecordingDispatcher
from dms.testing.postgres import ThrowawayPostgres, ThrowawayRedis
from dms.web.app import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "var", secret_key="test" * 8,
                         station_token="tok-123456", _env_file=None)


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    with ThrowawayRedis() as r:
        yield r


_db_counter = iter(range(10_000))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test against both databases; each test gets a fresh, empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    pg: ThrowawayPostgres = request.getfixturevalue("postgres")
    return pg.create_database(f"t{next(_db_counter)}")


# --- the web fixtures: one migrated archive, its app, a test client, the CLI ----------------

WEB_PASSWORD = "web-test-pw-1"
LoginAs = Callable[..., FlaskClient]


@pytest.fixture
def web_services(settings: Settings) -> Iterator[Services]:
    """The services of a freshly migrated (empty) archive under ``settings``."""
    upgrade(settings.database_url)
    svc = build_services(settings)
    yield svc
    svc.close()


@pytest.fixture
def app(settings: Settings, web_services: Services) -> Flask:
    app = create_app(settings, dispatcher=RecordingDispatcher(), services=web_services)
    # These fixtures test what views do; CSRF is tested with it on (tests/web/conftest.py
    # ``web``, and the browser tests against a live server).
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    """The ``dms`` CLI on the same archive as ``app`` (invoke with ``runner.invoke(cli, …)``)."""
    return CliRunner(env={"DMS_DATA_DIR": str(settings.data_dir),
                          "DMS_DATABASE_URL": settings.database_url,
                          "DMS_SECRET_KEY": "test" * 8, "DMS_LOG_LEVEL": "WARNING"})


@pytest.fixture
def login_as(app: Flask, web_services: Services) -> LoginAs:
    """``login_as(role, team=None, username=None)``: a client signed in as that person
    (created with ``WEB_PASSWORD`` if missing)."""
    def login(role: str, team: str | None = None, *, username: str | None = None) -> FlaskClient:
        name = username or f"{role}-{team or 'all'}"
        with session_scope(web_services.sessions) as s:
            if s.scalar(select(User).where(User.username == name)) is None:
                create_user(s, name, WEB_PASSWORD, role, team_code=team)
        c = app.test_client()
        res = c.post("/login", data={"username": name, "password": WEB_PASSWORD})
        assert res.status_code == 302, f"login as {name}: {res.status_code}"
        return c

    return login
