"""The OCR engine setting is honoured per deployment, per document type and per
``dms ocr --reprocess --engine`` run, through the real OCR flow (SQLite, local object store,
real OCR of a small page, the real CLI)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dms.cli import cli, main
from dms.db.migrate import upgrade
from dms.db.models import AuditEvent, Business, Customer, Document, Page
from dms.db.session import session_scope
from dms.services import ocr_flow
from dms.services.container import Services, build_services
from dms.settings import DEFAULT_CONFIG_DIR, load_settings
from dms.storage import content_key
from tests.ocr.conftest import render, save


class InlineDispatcher:
    """A real in-process Dispatcher: runs the OCR flow right here, page by page."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def ocr_document(self, document_id: int) -> None:
        ocr_flow.prepare_document(self.services, document_id, self)

    def ocr_page(self, page_id: int) -> None:
        ocr_flow.ocr_page(self.services, page_id, self, final_attempt=True)

    def finalize_document(self, document_id: int) -> None:
        ocr_flow.finalize_document(self.services, document_id)


def env_for(data_dir: Path, by_type: dict[str, str]) -> dict[str, str]:
    return {"DMS_DATA_DIR": str(data_dir), "DMS_OCR_ENGINE": "ppocr",
            "DMS_OCR_ENGINE_BY_DOC_TYPE": json.dumps(by_type), "DMS_OCR_LANGUAGES": "chi_sim",
            "DMS_SECRET_KEY": "test" * 32}


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Services]:
    """A deployment whose default engine is ppocr, with tesseract for contracts."""
    settings = load_settings(data_dir=tmp_path / "var", config_dir=DEFAULT_CONFIG_DIR,
                             _env_file=None, ocr_engine="ppocr", ocr_languages="chi_sim",
                             ocr_engine_by_doc_type={"GYDHT": "tesseract"})
    upgrade(settings.database_url)
    services = build_services(settings)
    yield services
    services.close()


def add_document(services: Services, tmp_path: Path) -> int:
    page = save(render(["供用电合同 第1页", "户名 张三 户号 3301000001"], width=1000),
                tmp_path / "page.png")
    data = page.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = content_key("originals", sha, ".png")
    services.store.put_bytes(key, data)
    with session_scope(services.sessions) as s:
        c = Customer(customer_no="3301000001", name="张三")
        b = Business(business_no="YK0001", customer=c, business_type="LV_RES_NEW")
        doc = Document(sha256=sha, customer=c, business=b, source_name="page.png",
                       mime="image/png", size_bytes=len(data), original_key=key)
        s.add(doc)
        s.flush()
        return doc.id


def engines_used(services: Services, doc_id: int) -> list[str]:
    with services.sessions() as s:
        pages = s.scalars(select(Page).where(Page.document_id == doc_id)).all()
        assert pages and all(p.ocr_status == "done" for p in pages), [
            (p.ocr_status, p.ocr_error) for p in pages]
        assert all("张三" in p.text for p in pages)
        return [p.engine for p in pages]


def set_doc_type(services: Services, doc_id: int, doc_type: str) -> None:
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.doc_type = doc_type


@pytest.mark.slow
def test_engine_per_deployment_per_type_and_per_reprocess_run(
        deployment: Services, tmp_path: Path) -> None:
    dispatcher = InlineDispatcher(deployment)
    doc_id = add_document(deployment, tmp_path)

    # 1. First OCR: the type is unknown yet, so the deployment's default reads it.
    dispatcher.ocr_document(doc_id)
    assert engines_used(deployment, doc_id) == ["ppocr"]

    # 2. Classified as a supply contract, reprocessed: the per-type engine reads it.
    set_doc_type(deployment, doc_id, "GYDHT")
    ocr_flow.reprocess(deployment, dispatcher, [doc_id])
    assert engines_used(deployment, doc_id) == ["tesseract"]

    # 3. `dms ocr --reprocess --engine ppocr`: this run's engine wins over the type's.
    env = env_for(Path(deployment.settings.data_dir), {"GYDHT": "tesseract"})
    run = CliRunner().invoke(cli, ["ocr", "--reprocess", "--document", str(doc_id),
                                   "--engine", "ppocr"], env=env)
    assert run.exit_code == 0, run.output
    with deployment.sessions() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.ocr_engine == "ppocr" and not doc.pages
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "ocr_reprocess")
                          .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.data == {"engine": "ppocr"}
    dispatcher.ocr_document(doc_id)  # what the worker does with the queued task
    assert engines_used(deployment, doc_id) == ["ppocr"]

    # 4. A reprocess run without --engine goes back to the settings.
    ocr_flow.reprocess(deployment, dispatcher, [doc_id])
    assert engines_used(deployment, doc_id) == ["tesseract"]


def test_unknown_engine_on_the_command_line_changes_nothing(
        deployment: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    doc_id = add_document(deployment, tmp_path)
    with session_scope(deployment.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        doc.ocr_status = "done"
    for name, value in env_for(Path(deployment.settings.data_dir), {}).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:  # main() is where errors become exit codes
        main(["ocr", "--reprocess", "--document", str(doc_id), "--engine", "abbyy"])
    assert exit_.value.code == 78  # EX_CONFIG
    err = capsys.readouterr().err
    assert "unknown OCR engine 'abbyy'" in err and "tesseract" in err
    with deployment.sessions() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.ocr_status == "done" and doc.ocr_engine == ""
