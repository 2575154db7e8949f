"""Tantivy specifics: writer lock between processes, registry wiring."""
from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
import tantivy

from dms.errors import ConfigError, SearchError
from dms.settings import Settings
from search import SearchQuery, make_search_index, register_search_index
from search.base import PageDoc, SearchIndex
from search import registry
from search.registry import available_backends
from search.tantivy_index import TantivyIndex


def _write_batches(path: str, worker: int, batches: int) -> None:
    ix = TantivyIndex(Path(path), lock_timeout=60)
    for b in range(batches):
        doc_id = worker * 1000 + b
        ix.index_pages([PageDoc(f"{doc_id}:{n}", doc_id, n, f"批次 {worker}", "c", team="A")
                        for n in (1, 2)])


def test_several_processes_write_to_one_index(tmp_path: Path) -> None:
    path = tmp_path / "index"
    TantivyIndex(path)  # create it first, so the workers only open it
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_batches, args=(str(path), w, 8)) for w in (1, 2, 3)]
    for p in procs:
        p.start()
    _write_batches(str(path), 4, 8)  # this process writes at the same time
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    ix = TantivyIndex(path)
    assert ix.count() == 4 * 8 * 2
    assert ix.search(SearchQuery("批次 3")).total == 16


def test_locked_index_waits_then_reports_clearly(tmp_path: Path) -> None:
    ix = TantivyIndex(tmp_path / "index", lock_timeout=0.3)
    other = tantivy.Index.open(str(tmp_path / "index"))  # stands in for another process
    writer = other.writer(heap_size=15_000_000, num_threads=1)
    with pytest.raises(SearchError, match="locked by another writer"):
        ix.index_pages([PageDoc("1:1", 1, 1, "合同", "c")])
    writer.wait_merging_threads()  # release the lock: writing works again
    assert ix.index_pages([PageDoc("1:1", 1, 1, "合同", "c")]) == 1
    assert ix.count() == 1


def test_refresh_sees_other_writers(tmp_path: Path) -> None:
    reader = TantivyIndex(tmp_path / "index")
    writer = TantivyIndex(tmp_path / "index")
    writer.index_pages([PageDoc("1:1", 1, 1, "合同", "c")])
    reader.refresh()
    assert reader.search(SearchQuery("合同")).total == 1


def test_registry(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # undo test entry
    assert {"tantivy", "elasticsearch"} <= set(available_backends())
    ix = make_search_index(settings)
    assert isinstance(ix, TantivyIndex) and isinstance(ix, SearchIndex)
    assert ix.path == settings.search_index_path

    es = settings.model_copy(update={"search_backend": "elasticsearch", "es_url": ""})
    with pytest.raises(ConfigError, match="es_url"):
        make_search_index(es)
    with pytest.raises(ConfigError, match="unknown search backend"):
        make_search_index(settings.model_copy(update={"search_backend": "solr"}))

    @register_search_index("memory-test")
    def _factory(s: Settings) -> SearchIndex:
        return TantivyIndex(Path(str(s.search_index_path)) / "custom")

    custom = make_search_index(settings.model_copy(update={"search_backend": "memory-test"}))
    assert isinstance(custom, TantivyIndex) and custom.path.name == "custom"


def test_an_index_of_an_older_schema_asks_for_a_reindex(tmp_path: Path) -> None:
    # An index written before the 8-gram fields existed: same fields minus text_o & co.
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("page_id", stored=True, tokenizer_name="raw")
    sb.add_integer_field("document_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("text", stored=False)
    sb.add_text_field("text_q", stored=False)
    tantivy.Index(sb.build(), path=str(tmp_path))
    with pytest.raises(SearchError) as err:
        TantivyIndex(tmp_path)
    assert "dms reindex" in (err.value.hint or "")
