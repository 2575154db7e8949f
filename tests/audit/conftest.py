"""A migrated database (SQLite and PostgreSQL) with audit entries, raw-SQL tampering that
goes around the append-only triggers as an attacker with the owner's rights would, and the
web app with people and one customer's document."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from dms.db import audit
from dms.db.migrate import upgrade
from dms.db.models import AuditEvent, Business, Customer, Document, Page, Volume
from dms.db.session import make_engine, make_session_factory, session_scope
from dms.services import physical
from dms.services.container import Services, build_services
from dms.services.users import create_user, ensure_team
from dms.settings import Settings
from dms.web.app import create_app
from tests.ingest.conftest import RecordingDispatcher

TRIGGERS = {"sqlite": ("DROP TRIGGER audit_events_no_update",
                       "DROP TRIGGER audit_events_no_delete"),
            "postgresql": ("DROP TRIGGER audit_events_append_only ON audit_events",)}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def append(factory: sessionmaker[Session], n: int, *, actor: str = "alice") -> None:
    for i in range(n):
        with session_scope(factory) as s:
            audit.record(s, actor=actor, action="document_view", entity="document",
                         entity_id=i + 1, customer_no=f"33010000{i:02d}",
                         remote_addr="10.0.0.7", data={"page": i, "q": "合同"})


def tamper(engine: Engine, *statements: str) -> None:
    """Drop the triggers (the owner / superuser can), then run ``statements``."""
    with engine.begin() as conn:
        for ddl in TRIGGERS[engine.dialect.name]:
            conn.execute(text(ddl))
        for stmt in statements:
            conn.execute(text(stmt))


# --- the web app with people, one customer's document and a box ---------------------------

PASSWORD = "audit-pw-123"
ID_NO = "11010519491231002X"  # a valid check digit
MOBILE = "13812345678"


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    upgrade(settings.database_url)
    services = build_services(settings)
    store = services.store
    with session_scope(services.sessions) as s:
        for name, role, team in (("handler", "handler", "YYB"), ("other", "handler", "QT"),
                                 ("lawyer", "dispute", None), ("keeper", "archivist", None),
                                 ("manager", "manager", None), ("root", "admin", None)):
            create_user(s, name, PASSWORD, role, display_name=name, team_code=team)
        team = ensure_team(s, "YYB")
        c = Customer(customer_no="3301000001", name="张三", team_id=team.id)
        b = Business(business_no="YK3301000001", customer=c, business_type="LV_RES_NEW",
                     team_id=team.id)
        digest = hashlib.sha256(b"original").hexdigest()
        d = Document(sha256=digest, customer=c, business=b, source_name="合同.pdf",
                     mime="application/pdf", size_bytes=8, original_key=f"originals/{digest}",
                     searchable_pdf_key=f"derived/{digest}.pdf", page_count=1, ocr_status="done")
        d.pages.append(Page(page_no=1, image_key=f"pages/{digest}/1.png", text="供用电合同"))
        s.add_all([c, b, d])
        (box,) = physical.create_boxes(s, count=1, actor="keeper")
        s.add(Volume(volume_no="JZ3301000001-01", customer_id=c.id, business_id=b.id,
                     box_id=box.id))
    store.put_bytes(f"originals/{digest}", b"%PDF-1.4 original")
    store.put_bytes(f"derived/{digest}.pdf", b"%PDF-1.4 searchable")
    store.put_bytes(f"pages/{digest}/1.png", b"\x89PNG page")
    yield services
    services.close()


def client(svc: Services, username: str) -> FlaskClient:
    app = create_app(svc.settings, dispatcher=RecordingDispatcher(), services=svc)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return c


def entries(svc: Services, **where: str) -> list[AuditEvent]:
    with svc.sessions() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEvent, k) == v)
        return list(s.scalars(stmt))


def doc_id(svc: Services) -> int:
    with svc.sessions() as s:
        found = s.scalar(select(Document.id))
        assert found is not None
        return found
