"""A small real archive: SQLite database, local object store, tantivy index in tmp.

Customers, businesses, documents and OCR'd pages are inserted directly (no OCR run);
the index is built by the same code ``dms reindex`` runs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dms.db.migrate import upgrade
from dms.db.models import Business, Customer, Document, Page
from dms.db.session import session_scope
from dms.services.container import Services, build_services
from dms.services.indexing import reindex_all
from dms.services.users import ensure_team
from dms.settings import Settings

REPO = Path(__file__).resolve().parents[2]

# (customer_no, name, team, business_no, business_type, state, doc_type, facts, pages)
ARCHIVE = [
    ("3301000001", "张三", "A", "YK2024000001", "LV_RES_NEW", "archived", "GYDHT",
     {"contract_no": "ZJGDHT2024000123", "id_number": "11010519491231002X"},
     ["供用电合同 合同编号 ZJGDHT2024000123 用电地址 杭州市西湖区", "电费结算 按月结算 违约责任"]),
    ("3301000001", "张三", "A", "YK2024000001", "LV_RES_NEW", "archived", "YDSQS", {},
     ["用电申请书 申请容量 8kVA 户号 3301000001"]),
    ("3301000002", "李四", "B", "YK2024000002", "CAP_INC", "pending_review", "GYDHT",
     {"contract_no": "ZJGDHT2023000777"},
     ["供用电合同 合同编号 ZJGDHT2023000777 增容 用电地址 杭州市滨江区"]),
    ("3301000003", "王五", "B", "YK2024000003", "TRANSFER", "pending_send", "BGSQ", {},
     ["變更用電申請書 過戶 電費已結清"]),  # Traditional
]


@dataclass
class Archive:
    settings: Settings
    services: Services
    document_ids: list[int]


def env_for(settings: Settings) -> dict[str, str]:
    """Environment that makes ``dms`` (the CLI) use this archive."""
    return {"DMS_DATA_DIR": str(settings.data_dir), "DMS_SECRET_KEY": "test" * 32,
            "DMS_CONFIG_DIR": str(REPO / "config"), "DMS_LOG_LEVEL": "WARNING"}


def insert_archive(services: Services) -> list[int]:
    ids = []
    with session_scope(services.sessions) as s:
        customers: dict[str, Customer] = {}
        businesses: dict[str, Business] = {}
        for n, (cno, name, team, bno, btype, state, dtype, facts, texts) in enumerate(ARCHIVE):
            t = ensure_team(s, team)
            s.flush()
            if cno not in customers:
                customers[cno] = Customer(customer_no=cno, name=name, team_id=t.id)
                s.add(customers[cno])
            if bno not in businesses:
                businesses[bno] = Business(business_no=bno, customer=customers[cno],
                                           business_type=btype, team_id=t.id,
                                           archive_state=state)
                s.add(businesses[bno])
            sha = hashlib.sha256(f"doc-{n}".encode()).hexdigest()
            key = f"originals/{sha[:2]}/{sha}.pdf"
            services.store.put_bytes(key, f"original {n}".encode(), "application/pdf")
            doc = Document(sha256=sha, customer=customers[cno], business=businesses[bno],
                           doc_type=dtype, title=f"{dtype}-{n}", source_name=f"{n}.pdf",
                           mime="application/pdf", size_bytes=10, original_key=key,
                           page_count=len(texts), ocr_status="done", facts=facts,
                           created_at=dt.datetime(2024, 1 + n, 1, tzinfo=dt.UTC))
            doc.pages = [Page(page_no=i, image_key=f"pages/{sha}/{i}.png", text=text,
                              ocr_status="done") for i, text in enumerate(texts, 1)]
            for p in doc.pages:
                services.store.put_bytes(p.image_key, b"png", "image/png")
            s.add(doc)
            s.flush()
            ids.append(doc.id)
    return ids


@pytest.fixture
def archive(settings: Settings) -> Iterator[Archive]:
    upgrade(settings.database_url)
    services = build_services(settings)
    ids = insert_archive(services)
    with session_scope(services.sessions) as s:
        reindex_all(s, services.index)
    yield Archive(settings, services, ids)
    services.close()
