"""Two kinds of web fixture:

* ``web``: a real app (SQLite, local store, tantivy) with CSRF ON, users of several roles,
  and a client that logs in the way a browser does: GET the form, send its CSRF token back;
* ``archive``: the seeded two-team archive of the policy walk (on the shared ``app``, CSRF
  off: the walk checks the access policy), with a signed-in client per walker."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dms.db.migrate import upgrade
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.users import create_user
from dms.settings import Settings, load_settings
from dms.testing.policy_walk import PASSWORD as WALK_PASSWORD
from dms.testing.policy_walk import Objects, Walker, seed
from dms.web.app import create_app
from tests.ingest.conftest import RecordingDispatcher

PASSWORD = "hardening-pw-1"
USERS = (("arch", "archivist", None), ("ha", "handler", "A"), ("boss", "admin", None))
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    settings: Settings
    services: Services
    app: Flask

    def client(self) -> FlaskClient:
        return self.app.test_client()


@pytest.fixture(scope="session")
def _seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrating and hashing passwords cost seconds: do it once, copy the file per test."""
    root = tmp_path_factory.mktemp("web-seed")
    settings = load_settings(data_dir=root, secret_key="seed" * 8, _env_file=None)
    upgrade(settings.database_url)
    services = build_services(settings)
    with session_scope(services.sessions) as s:
        for username, role, team in USERS:
            create_user(s, username, PASSWORD, role, team_code=team)
    services.close()
    return Path(settings.database_url.removeprefix("sqlite:///"))


@pytest.fixture
def web(settings: Settings, _seeded_db: Path) -> Iterator[Web]:
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_seeded_db, db)
    services = build_services(settings)
    yield Web(settings, services, create_app(settings, dispatcher=RecordingDispatcher(),
                                             services=services))
    services.close()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The token a form of ``path`` carries (what a browser would send back)."""
    page = client.get(path).get_data(as_text=True)
    m = _TOKEN.search(page)
    assert m, f"no csrf_token field on {path}"
    return m.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": csrf_token(client)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


@dataclass
class Archive:
    own: Objects      # team YYB: the handler's and collector's own team
    other: Objects    # team DKH
    walkers: dict[str, Walker]
    as_: Callable[[str], FlaskClient]   # a client signed in as w-<role>
    services: Services


@pytest.fixture
def archive(app: Flask, web_services: Services) -> Archive:
    objs, walkers = seed(web_services)

    def as_(role: str) -> FlaskClient:
        c = app.test_client()
        res = c.post("/login", data={"username": f"w-{role}", "password": WALK_PASSWORD})
        assert res.status_code == 302
        return c

    return Archive(objs["own"], objs["other"], {w.subject or "anonymous": w for w in walkers},
                   as_, web_services)


@pytest.fixture
def any_db_services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """The services of a migrated archive on SQLite and on PostgreSQL (``database_url``):
    for queries the two databases spell differently (JSON fields, server-side cursors)."""
    settings = load_settings(data_dir=tmp_path / "var", secret_key="test" * 8,
                             database_url=database_url, _env_file=None)
    upgrade(settings.database_url)
    svc = build_services(settings)
    yield svc
    svc.close()
