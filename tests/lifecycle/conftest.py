"""A real database (SQLite file or throwaway PostgreSQL) with a team, its people and a
customer; helpers to send events and to add classified documents."""
from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from dms.db.migrate import upgrade
from dms.db.models import Business, Customer, Document, User
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.events import Receipt, receive_event
from dms.services.users import create_user, ensure_team
from dms.settings import Settings, load_settings
from dms.testing.postgres import ThrowawayPostgres

CST = ZoneInfo("Asia/Shanghai")
PASSWORD = "lifecycle-pw-1"
_sha = itertools.count(1)


def at(text: str) -> datetime:
    """A Beijing-time instant, e.g. at('2026-03-06 10:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "var", database_url=database_url,
                         secret_key="test" * 32, _env_file=None, **overrides)


def seed(services: Services) -> None:
    with session_scope(services.sessions) as s:
        ensure_team(s, "YYB", "营业班")
        ensure_team(s, "DKH", "大客户经理班")
        create_user(s, "h1", PASSWORD, "handler", team_code="YYB", display_name="经办甲")
        create_user(s, "h2", PASSWORD, "handler", team_code="YYB", display_name="经办乙")
        create_user(s, "c1", PASSWORD, "collector", team_code="YYB", display_name="收集员")
        create_user(s, "lead", PASSWORD, "handler", team_code="YYB", display_name="班长",
                    team_leader=True)
        create_user(s, "c2", PASSWORD, "collector", team_code="DKH")
        create_user(s, "a1", PASSWORD, "archivist", display_name="档案员")
        s.flush()
        from dms.db.models import Team

        yyb = s.scalar(select(Team).where(Team.code == "YYB"))
        assert yyb is not None
        s.add(Customer(customer_no="3301000001", name="张三", team_id=yyb.id))
        s.add(Customer(customer_no="3301000002", name="李四电器有限公司", team_id=yyb.id))


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrating and hashing passwords cost seconds: do it once, copy the file per test."""
    root = tmp_path_factory.mktemp("seeded")
    url = f"sqlite:///{root / 'seed.sqlite'}"
    upgrade(url)
    svc = build_services(make_settings(root, url))
    seed(svc)
    svc.close()
    return root / "seed.sqlite"


def _sqlite_copy(seeded: Path, tmp_path: Path) -> str:
    target = tmp_path / "lc.sqlite"
    shutil.copyfile(seeded, target)
    return f"sqlite:///{target}"


_pg_copies = itertools.count(1)
# tests/events imports these fixtures too: a run of both directories seeds two templates.
_pg_templates = itertools.count(1)


@pytest.fixture(scope="session")
def seeded_pg(request: pytest.FixtureRequest) -> str:
    """A migrated, seeded PostgreSQL database used as a template (CREATE DATABASE … TEMPLATE)."""
    pg: ThrowawayPostgres = request.getfixturevalue("postgres")
    url = pg.create_database(f"lc_template{next(_pg_templates)}")
    upgrade(url)
    svc = build_services(make_settings(Path(pg.dir), url))
    seed(svc)
    svc.close()
    return url


def _pg_copy(template_url: str) -> str:
    name = f"lc_{next(_pg_copies)}"
    engine = create_engine(template_url.rsplit("/", 1)[0] + "/dms", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template_url.rsplit('/', 1)[1]}"))
    engine.dispose()
    return template_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def services(tmp_path: Path, database_url: str, seeded_sqlite: Path,
             request: pytest.FixtureRequest) -> Iterator[Services]:
    if database_url.startswith("sqlite"):
        url = _sqlite_copy(seeded_sqlite, tmp_path)
    else:
        url = _pg_copy(request.getfixturevalue("seeded_pg"))
    svc = build_services(make_settings(tmp_path, url))
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(tmp_path: Path, seeded_sqlite: Path) -> Iterator[Services]:
    svc = build_services(make_settings(tmp_path, _sqlite_copy(seeded_sqlite, tmp_path)))
    yield svc
    svc.close()


def event(event_id: str, step: str, completed_at: str, *, business_no: str = "YK2026000001",
          business_type: str = "LV_RES_NEW", customer_no: str = "3301000001",
          handler: str = "h1", team: str = "YYB", **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "customer_no": customer_no, "business_no": business_no,
            "business_type": business_type, "step": step, "completed_at": completed_at,
            "handler": handler, "team": team, **extra}


def send(services: Services, payload: dict[str, Any], now: datetime | None = None) -> Receipt:
    return receive_event(services, "yingxiao", payload, now=now)


def add_document(services: Services, business_no: str, doc_type: str,
                 facts: dict[str, Any] | None = None) -> int:
    with session_scope(services.sessions) as s:
        b = s.scalar(select(Business).where(Business.business_no == business_no))
        assert b is not None
        n = next(_sha)
        d = Document(sha256=f"{n:064x}", customer_id=b.customer_id, business_id=b.id,
                     doc_type=doc_type, type_confirmed=True, source_name=f"{doc_type}-{n}.pdf",
                     mime="application/pdf", size_bytes=1000, original_key=f"originals/{n}",
                     ocr_status="done", facts=facts or {})
        s.add(d)
        s.flush()
        return d.id


def user(services: Services, username: str) -> User:
    with services.sessions() as s:
        u = s.scalar(select(User).where(User.username == username))
        assert u is not None
        return u


def state_of(services: Services, business_no: str) -> str:
    with services.sessions() as s:
        return str(s.scalar(select(Business.archive_state)
                            .where(Business.business_no == business_no)))
