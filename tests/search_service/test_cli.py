"""``dms reindex`` / ``dms search --json`` / ``dms documents delete`` on a real archive."""
from __future__ import annotations

import json
import shutil
from typing import Any

import tantivy
from click.testing import CliRunner
from sqlalchemy import func, select

from dms.cli import cli
from dms.db.models import AuditEvent, Document, Page
from dms.errors import SearchIndexUnreadable
from tests.search.test_tantivy_hit_record import schema_before_issue_6
from tests.search_service.conftest import Archive, env_for

QUERIES = ["合同", "用电地址", "电费", "ZJGDHT2024000123", "3301000001", "杭州 -滨江区",
           "过户", '"按月结算"', "類型:GYDHT", "state:archived"]


def dms(archive: Archive, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env=env_for(archive.settings),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def search_json(archive: Archive, query: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(dms(archive, "search", query, "--json", "--size", "50")
                                     .stdout)
    return out


def test_search_json_output(archive: Archive) -> None:
    out = search_json(archive, "合同")
    assert out["total"] == 2
    hit = out["hits"][0]
    assert set(hit) == {"document_id", "page_no", "score", "snippet", "fields"}
    assert {h["document_id"] for h in out["hits"]} == {archive.document_ids[0],
                                                       archive.document_ids[2]}
    assert "<mark>合同</mark>" in hit["snippet"]
    assert hit["fields"]["customer_no"] in ("3301000001", "3301000002")
    # An identifier puts its contract first; a Traditional page is found in Simplified.
    assert search_json(archive, "ZJGDHT2023000777")["hits"][0]["document_id"] == \
        archive.document_ids[2]
    assert search_json(archive, "电费已结清")["hits"][0]["document_id"] == archive.document_ids[3]


def test_reindex_after_deleting_the_index_restores_identical_results(archive: Archive) -> None:
    before = {q: search_json(archive, q) for q in QUERIES}
    assert all(before[q]["total"] > 0 for q in QUERIES), before
    index_dir = archive.settings.search_index_path
    assert index_dir is not None and index_dir.is_dir()
    shutil.rmtree(index_dir)
    assert search_json(archive, "合同")["total"] == 0  # the index really is gone
    out = dms(archive, "reindex")
    assert "indexed 5 pages" in out.stdout
    after = {q: search_json(archive, q) for q in QUERIES}
    assert after == before


def test_reindex_replaces_an_index_of_an_older_schema(archive: Archive) -> None:
    # After an upgrade that changed the index schema the old index cannot even be opened;
    # `dms reindex` deletes it (it holds nothing the database does not) and builds anew.
    before = {q: search_json(archive, q) for q in QUERIES}
    index_dir = archive.settings.search_index_path
    assert index_dir is not None
    shutil.rmtree(index_dir)
    index_dir.mkdir()
    old = tantivy.Index(schema_before_issue_6(), path=str(index_dir))
    old.writer(heap_size=15_000_000, num_threads=1).commit()
    result = CliRunner().invoke(cli, ["search", "合同", "--json"],
                                env=env_for(archive.settings))
    assert isinstance(result.exception, SearchIndexUnreadable)  # main() prints it, exit 1
    assert "dms reindex" in (result.exception.hint or "")
    out = dms(archive, "reindex")
    assert "rebuilding it from the database" in out.stderr and "indexed 5 pages" in out.stdout
    assert {q: search_json(archive, q) for q in QUERIES} == before


def test_reindex_resumes_after_a_document_id(archive: Archive) -> None:
    shutil.rmtree(archive.settings.search_index_path or "")
    out = dms(archive, "reindex", "--after-id", str(archive.document_ids[1]))
    assert "indexed 2 pages" in out.stdout  # only the documents after that id
    assert {h["document_id"] for h in search_json(archive, "合同")["hits"]} == \
        {archive.document_ids[2]}


def test_deleted_document_disappears_and_its_original_stays(archive: Archive) -> None:
    doc_id = archive.document_ids[0]
    with archive.services.sessions() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        original, image = doc.original_key, doc.pages[0].image_key
    assert doc_id in {h["document_id"] for h in search_json(archive, "合同")["hits"]}
    out = dms(archive, "documents", "delete", str(doc_id), "--yes", "--reason", "重复扫描")
    assert f"document {doc_id} deleted" in out.stdout
    assert doc_id not in {h["document_id"] for h in search_json(archive, "合同")["hits"]}
    assert search_json(archive, "ZJGDHT2024000123")["total"] == 0
    assert search_json(archive, "合同")["total"] == 1
    with archive.services.sessions() as s:
        assert s.get(Document, doc_id) is None
        assert s.scalar(select(func.count()).select_from(Page)
                        .where(Page.document_id == doc_id)) == 0
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "document_deleted")).one()
        assert ev.entity_id == str(doc_id) and ev.reason == "重复扫描"
    assert archive.services.store.exists(original)  # the evidence stays
    assert not archive.services.store.exists(image)  # what OCR derived goes
    # and a rebuilt index does not bring it back
    dms(archive, "reindex")
    assert doc_id not in {h["document_id"] for h in search_json(archive, "合同")["hits"]}


def test_deleting_a_missing_document_is_an_error(archive: Archive) -> None:
    result = CliRunner().invoke(cli, ["documents", "delete", "999999", "--yes"],
                                env=env_for(archive.settings))
    assert result.exit_code != 0
