"""`dms fsck` on the embedded default: a clean archive passes; each kind of damage is
found, reported (text and JSON, exit code 1) and repaired where it can be, never by
deleting an original."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dms.cli import cli
from dms.db.models import AuditEvent, Document, Page
from dms.services.container import Services
from dms.services.fsck import run_fsck
from search import PageDoc
from tests.ingest.conftest import RecordingDispatcher, make_services
from tests.ops.archive import populate


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = make_services(tmp_path / "data")
    yield svc
    svc.close()


def _doc(services: Services, doc_id: int) -> Document:
    with services.sessions() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        _ = doc.pages
        return doc


def test_clean_archive_passes(services: Services) -> None:
    arch = populate(services)
    report = run_fsck(services, sample=100, seed=1)
    assert report.ok, report.text()
    assert report.documents == len(arch.documents) and report.pages == arch.pages
    assert report.index_pages == report.expected_index_pages == arch.pages
    assert report.sampled_customers == len(arch.customers)
    assert report.bytes_hashed > 0
    quick = run_fsck(services, quick=True)
    assert quick.ok and quick.bytes_hashed == 0


def test_damage_is_found_and_repaired_never_deleting_an_original(services: Services) -> None:
    arch = populate(services)
    corrupt, missing, derived, *_ = arch.documents
    d_corrupt, d_missing, d_derived = (_doc(services, i) for i in (corrupt, missing, derived))
    store = services.store
    # Same size, other bytes: only the hash can tell.
    data = store.get_bytes(d_corrupt.original_key)
    store.put_bytes(d_corrupt.original_key, bytes([data[0] ^ 1]) + data[1:])
    store.delete(d_missing.original_key)
    store.delete(d_derived.pages[1].image_key)
    store.delete(d_derived.pages[0].words_key or "")
    store.delete(d_derived.searchable_pdf_key or "")
    # The index lacks one page and holds one that no longer exists.
    services.index.delete_document(arch.documents[-1])
    services.index.index_pages([PageDoc(page_id="999:1", document_id=999, page_no=1,
                                        text="孤立页面", customer_no=arch.customers[0])])

    report = run_fsck(services, sample=100, seed=2)
    kinds = {(p.kind, p.document_id) for p in report.problems}
    assert ("original_corrupt", corrupt) in kinds
    assert ("original_missing", missing) in kinds
    assert {("page_text_missing", derived), ("searchable_pdf_missing", derived)} <= kinds
    # An assembled document's page images were work files (DMS_KEEP_PAGE_ARTIFACTS off).
    assert ("page_image_missing", derived) not in kinds
    assert ("index_count", None) in kinds
    assert ("index_missing", arch.documents[-1]) in kinds and ("index_extra", 999) in kinds
    quick = {p.kind for p in run_fsck(services, quick=True, sample=0).problems}
    assert "original_corrupt" not in quick and "original_missing" in quick  # size is equal

    dispatcher = RecordingDispatcher()
    fixed = run_fsck(services, sample=100, seed=3, repair=True, dispatcher=dispatcher)
    assert dispatcher.ocr_documents == [derived]  # only what its original can rebuild
    assert _doc(services, derived).ocr_status == "queued"
    assert _doc(services, corrupt).original_state == "corrupt"
    assert _doc(services, missing).original_state == "missing"
    assert store.exists(d_corrupt.original_key)  # kept: evidence, never deleted
    assert fixed.repairs["pages reindexed"] == arch.pages - 2  # `derived` awaits OCR
    with services.sessions() as s:
        actions = [(e.entity_id, e.to_state) for e in
                   s.scalars(select(AuditEvent).where(AuditEvent.action == "original_state"))]
    assert sorted(actions) == sorted([(str(corrupt), "corrupt"), (str(missing), "missing")])

    # After the repair only the unrecoverable originals (and what hangs on them) remain.
    again = run_fsck(services, sample=100, seed=4)
    assert {p.document_id for p in again.problems} == {corrupt, missing}
    assert not [p for p in again.problems if p.kind.startswith("index")]

    # The original comes back (restored from a backup): the mark is cleared.
    store.put_bytes(d_corrupt.original_key, data)
    run_fsck(services, repair=True, dispatcher=dispatcher, sample=0)
    assert _doc(services, corrupt).original_state == "ok"


def test_cli_reports_text_and_json_with_exit_code(services: Services, tmp_path: Path) -> None:
    arch = populate(services, customers=2)
    env = {"DMS_DATA_DIR": str(services.settings.data_dir)}
    runner = CliRunner()
    ok = runner.invoke(cli, ["fsck"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "正常 / OK" in ok.output
    with services.sessions() as s:
        page = s.scalars(select(Page).where(Page.document_id == arch.documents[0])).first()
        assert page is not None and page.words_key
        services.store.delete(page.words_key)
    bad = runner.invoke(cli, ["fsck", "--json"], env=env)
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["ok"] is False
    assert [(p["kind"], p["document_id"], p["page_no"]) for p in data["problems"]] == [
        ("page_text_missing", arch.documents[0], 1)]
    text = runner.invoke(cli, ["fsck", "--quick"], env=env)
    assert text.exit_code == 1 and "页面文字缺失" in text.output


def test_document_page_shows_an_unrecoverable_original(services: Services) -> None:
    from dms.services.users import create_user
    from dms.db.session import session_scope
    from dms.web import create_app

    arch = populate(services, customers=1)
    doc = _doc(services, arch.documents[0])
    services.store.delete(doc.original_key)
    run_fsck(services, repair=True, dispatcher=RecordingDispatcher(), sample=0)
    with session_scope(services.sessions) as s:
        create_user(s, "admin1", "pw-123456-long", "admin")
    app = create_app(services.settings)
    app.config["WTF_CSRF_ENABLED"] = False  # not a CSRF test: tests/web covers CSRF
    client = app.test_client()
    r = client.post("/login", data={"username": "admin1", "password": "pw-123456-long"})
    assert r.status_code in (302, 303)
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'id="original-state" data-state="missing"' in page
    assert "原件缺失" in page and "dms restore" in page
