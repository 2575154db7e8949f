"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from dms.db import audit
from dms.db.migrate import downgrade, upgrade
from dms.db.models import Base, Business, Customer, Document, Page
from dms.db.session import after_commit, make_engine, make_session_factory, session_scope
from dms.errors import ConflictError


def test_migrations_match_models(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_then_upgrade(database_url: str) -> None:
    upgrade(database_url)
    downgrade(database_url, "base")
    upgrade(database_url)


def test_models_round_trip_and_effects_run_only_after_commit(database_url: str) -> None:
    upgrade(database_url)
    factory = make_session_factory(make_engine(database_url))
    ran: list[str] = []
    with session_scope(factory) as s:
        c = Customer(customer_no="3301000001", name="张三")
        b = Business(business_no="YK2024000001", customer=c, business_type="LV_RES_NEW")
        d = Document(sha256="a" * 64, customer=c, business=b, source_name="合同.pdf",
                     mime="application/pdf", size_bytes=10, original_key="originals/x")
        d.pages.append(Page(page_no=1, image_key="pages/x/1.png", text="供用电合同"))
        s.add(c)
        after_commit(s, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(RuntimeError):
        with session_scope(factory) as s:
            after_commit(s, lambda: ran.append("rolled back"))
            raise RuntimeError("boom")
    assert ran == ["committed"]
    with factory() as s:
        doc = s.scalar(select(Document))
        assert doc is not None and doc.pages[0].text == "供用电合同"
        assert doc.customer.name == "张三"


def test_audit_log_is_append_only(database_url: str) -> None:
    upgrade(database_url)
    factory = make_session_factory(make_engine(database_url))
    with session_scope(factory) as s:
        ev = audit.record(s, actor="u", action="transition", entity="business", entity_id=1,
                          from_state="pending_add", to_state="pending_send")
    with pytest.raises(ConflictError):
        with session_scope(factory) as s:
            ev = s.merge(ev)
            ev.reason = "rewrite history"


def test_migrations_form_one_chain() -> None:
    """One head, so `alembic upgrade head` works; later revisions chain from the merge."""
    from dms.db.migrate import current_heads

    assert len(current_heads()) == 1
