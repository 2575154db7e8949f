"""Fixtures of the classification tests: real OCR text of every checklist type (read once
by tesseract from generated scans, kept in fixtures/ocr_dev.json), a migrated database
with services, and a helper that files a document with OCRed pages."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dms.db.migrate import upgrade
from dms.db.models import Customer, Document, Page
from dms.services.container import Services, build_services
from dms.settings import Settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def ocr_fixtures() -> dict[str, dict[str, Any]]:
    """Per checklist type: the tesseract output of one generated scan (seed 9001)."""
    data: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / "ocr_dev.json").read_text(encoding="utf-8"))
    return data


@cache
def to_traditional(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2t").convert(text))


@dataclass
class Env:
    settings: Settings
    services: Services

    def add_document(self, pages: list[str], *, customer_no: str = "3392966508",
                     words: dict[int, list[dict[str, Any]]] | None = None,
                     name: str = "scan.pdf") -> int:
        """A document whose pages are OCRed (text, and word boxes in the store)."""
        with self.services.sessions.begin() as s:
            c = s.scalar(select(Customer).where(Customer.customer_no == customer_no))
            if c is None:
                c = Customer(customer_no=customer_no, name="客户")
                s.add(c)
            digest = hashlib.sha256(f"{name}/{len(pages)}/{pages[0]}".encode()).hexdigest()
            doc = Document(sha256=digest, customer=c, source_name=name, mime="application/pdf",
                           size_bytes=1, original_key=f"originals/{digest}",
                           page_count=len(pages), ocr_status="done")
            for n, text in enumerate(pages, 1):
                key = None
                if words and n in words:
                    key = f"ocr/{digest}/{n:04d}.words.json"
                    self.services.store.put_bytes(key, json.dumps(words[n]).encode())
                doc.pages.append(Page(page_no=n, image_key=f"pages/{digest}/{n}.png", text=text,
                                      words_key=key, ocr_status="done"))
            s.add(doc)
            s.flush()
            return doc.id

    def doc(self, s: Session, doc_id: int) -> Document:
        d = s.get(Document, doc_id)
        assert d is not None
        return d


def make_env(settings: Settings) -> Iterator[Env]:
    upgrade(settings.database_url)
    svc = build_services(settings)
    yield Env(settings, svc)
    svc.close()


@pytest.fixture
def env(settings: Settings) -> Iterator[Env]:
    """SQLite in a temp dir, local object store, tantivy index."""
    yield from make_env(settings)


@pytest.fixture
def env_any_db(database_url: str, tmp_path: Path) -> Iterator[Env]:
    """The same on SQLite and PostgreSQL, for the set-based queries (review queue)."""
    s = load_settings(data_dir=tmp_path / "var", database_url=database_url,
                      secret_key="test" * 32, _env_file=None)
    yield from make_env(s)


@pytest.fixture(autouse=True)
def _fresh_model_cache() -> Iterator[None]:
    from dms.classify.registry import forget_cache

    forget_cache()
    yield
    forget_cache()
