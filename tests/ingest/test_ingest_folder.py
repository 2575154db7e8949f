"""End to end: a station folder into a real SQLite DB and a real local object store."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import ingest.batch
from dms.db.models import Business, Customer, Document, IngestBatch, IngestFile
from dms.services.container import Services
from ingest import Progress, ingest_folder
from ingest.layout import IngestRootError
from tests.ingest.conftest import (RecordingDispatcher, encrypted_pdf_bytes, image_pdf_bytes,
                                   jpeg_bytes, make_services, pdf_bytes, png_bytes, tiff_bytes,
                                   write)
from tests.ingest.test_sniff import _png_header_only

GOOD = {
    "3301000001_张三/扫描 申请书.pdf": pdf_bytes(seed=1),
    "3301000001_张三/B2023-0001_低压居民新装/合同.tif": tiff_bytes(pages=3, seed=2),
    "3301000001_张三/B2023-0001_低压居民新装/photo 1.jpg": jpeg_bytes(seed=3),
    "3301000002/LV-0002_CAP_INC/x.png": png_bytes(seed=4),
    "3301000002/image only.pdf": image_pdf_bytes(seed=5),
}
BAD = {
    "loose.pdf": (pdf_bytes(seed=10), "directly in ROOT"),
    "notacustomer/a.pdf": (pdf_bytes(seed=11), "does not start with a customer number"),
    "3301000003/png.pdf": (png_bytes(seed=12), "content is PNG but extension is .pdf"),
    "3301000003/empty.pdf": (b"", "zero-byte file"),
    "3301000003/trunc.pdf": (pdf_bytes(pages=2, seed=13)[:900], "truncated PDF"),
    "3301000003/enc.pdf": (encrypted_pdf_bytes("pw"), "encrypted PDF"),
    "3301000003/bomb.png": (_png_header_only(40_000, 40_000), "decompression bomb"),
    "3301000003/many.pdf": (pdf_bytes(pages=6, seed=14), "more than the limit of 5"),
    "3301000003/ctl\x01name.pdf": (pdf_bytes(seed=15), "control characters"),
}
NON_UTF8 = b"3301000003/\xd5\xc5\xc8\xfd.pdf"  # GBK, as an old Windows station writes it


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    s = make_services(tmp_path / "data", ocr_max_pages=5, ocr_max_pixels=10_000_000)
    yield s
    s.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "station"
    for rel, data in GOOD.items():
        write(root, rel, data)
    for rel, (data, _) in BAD.items():
        write(root, rel, data)
    write(root, "3301000001_张三/copy of 申请书.pdf", GOOD["3301000001_张三/扫描 申请书.pdf"])
    write(root, ".truth/truth.json", b"{}")
    write(root, "3301000001_张三/.DS_Store", b"junk")
    bad_name = os.fsencode(root) + b"/" + NON_UTF8
    with open(bad_name, "wb") as fh:
        fh.write(pdf_bytes(seed=16))
    return root


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_first_run(svc: Services, root: Path, dispatcher: RecordingDispatcher) -> None:
    seen: list[Progress] = []
    rep = ingest_folder(svc, root, dispatcher=dispatcher, workers=4, progress=seen.append)
    assert rep.counts == {"files": 16, "stored": 5, "duplicate": 1, "quarantined": 10}
    assert seen[-1].files_done == seen[-1].files_total == 16
    assert seen[-1].bytes_done == seen[-1].bytes_total > 0
    with svc.sessions() as s:
        by_sha = {d.sha256: d for d in s.scalars(select(Document))}
        assert set(by_sha) == {sha(data) for data in GOOD.values()}
        docs = {rel: by_sha[sha(data)] for rel, data in GOOD.items()}
        for rel, data in GOOD.items():
            d = docs[rel]
            assert d.size_bytes == len(data)
            assert svc.store.get_bytes(d.original_key) == data
            assert d.batch_id == rep.batch_id and d.ocr_status == "queued"
        assert docs["3301000001_张三/B2023-0001_低压居民新装/合同.tif"].page_count == 3
        assert docs["3301000001_张三/B2023-0001_低压居民新装/合同.tif"].mime == "image/tiff"
        assert sorted(dispatcher.ocr_documents) == sorted(d.id for d in docs.values())
        custs = {c.customer_no: c for c in s.scalars(select(Customer))}
        assert custs["3301000001"].name == "张三" and custs["3301000002"].name == ""
        assert "3301000003" not in custs  # nothing of it was stored
        bizs = {b.business_no: b for b in s.scalars(select(Business))}
        assert bizs["B2023-0001"].business_type == "LV_RES_NEW"
        assert bizs["LV-0002"].business_type == "CAP_INC"
        assert docs["3301000002/image only.pdf"].business_id is None
        files = {f.rel_path: f for f in s.scalars(select(IngestFile))}
        # Which of two identical files becomes the document depends on thread timing.
        pair = [files["3301000001_张三/copy of 申请书.pdf"],
                files["3301000001_张三/扫描 申请书.pdf"]]
        assert sorted(f.outcome for f in pair) == ["duplicate", "stored"]
        assert {f.document_id for f in pair} == {docs["3301000001_张三/扫描 申请书.pdf"].id}
        for rel, (data, why) in BAD.items():
            f = files[rel.replace("\x01", "\\x01")]
            assert f.outcome == "quarantined" and why in f.reason, (rel, f.reason)
            assert f.quarantine_key == f"quarantine/{sha(data)}"
            assert svc.store.get_bytes(f.quarantine_key) == data  # nothing is lost
        odd = files["3301000003/\\xd5\\xc5\\xc8\\xfd.pdf"]
        assert odd.outcome == "quarantined" and "not valid UTF-8" in odd.reason
        batch = s.get(IngestBatch, rep.batch_id)
        assert batch is not None and batch.status == "done"
        assert batch.report["counts"]["stored"] == 5
    saved = json.loads(svc.store.get_bytes(f"reports/batch-{rep.batch_id}.json"))
    assert saved["counts"] == rep.counts
    assert saved["per_customer"]["3301000001"] == {"stored": 3, "duplicate": 1}
    assert saved["per_business"]["B2023-0001"] == {"stored": 2, "duplicate": 0}
    text = svc.store.get_bytes(f"reports/batch-{rep.batch_id}.txt").decode("utf-8")
    assert "新入库 5" in text and "5 stored" in text and "zero-byte file" in text
    assert "隔离" in rep.summary_text() and "quarantined" in rep.summary_text("en")


def test_rerun_does_nothing_but_report(svc: Services, root: Path,
                                       dispatcher: RecordingDispatcher,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    first = ingest_folder(svc, root, dispatcher=dispatcher)
    dispatched = list(dispatcher.ocr_documents)
    objects = sorted(svc.store.iter_keys("originals/"))
    hashed: list[Path] = []
    real_hash = ingest.batch.hash_file

    def counting_hash(path: Path) -> tuple[str, bytes]:
        hashed.append(path)
        return real_hash(path)

    monkeypatch.setattr(ingest.batch, "hash_file", counting_hash)
    again = ingest_folder(svc, root, dispatcher=dispatcher)
    assert again.batch_id != first.batch_id
    assert again.counts == {"files": 16, "stored": 0, "duplicate": 6, "quarantined": 10}
    assert dispatcher.ocr_documents == dispatched
    assert sorted(svc.store.iter_keys("originals/")) == objects
    # Only the two files whose names keep them out of the ledger are hashed again.
    assert len(hashed) == 2
    # A changed file is hashed again and stored, correctness never rests on the ledger.
    changed = root / "3301000002/image only.pdf"
    changed.write_bytes(image_pdf_bytes(seed=77))
    third = ingest_folder(svc, root, dispatcher=dispatcher)
    assert third.counts["stored"] == 1 and len(hashed) == 5


def test_ledger_never_trusted_without_the_document(svc: Services, root: Path,
                                                  dispatcher: RecordingDispatcher) -> None:
    ingest_folder(svc, root, dispatcher=dispatcher)
    with svc.sessions() as s:  # someone deleted a document (and its file rows)
        doc = s.scalars(select(Document).where(Document.mime == "image/png")).one()
        s.query(IngestFile).filter(IngestFile.document_id == doc.id).delete()
        s.delete(doc)
        s.commit()
    rep = ingest_folder(svc, root, dispatcher=dispatcher)
    assert rep.stored == 1


def test_duplicate_across_batches_and_business_conflict(svc: Services, tmp_path: Path,
                                                        dispatcher: RecordingDispatcher) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "3301000001/B0001/a.pdf", pdf_bytes(seed=1))
    ingest_folder(svc, a, dispatcher=dispatcher)
    write(b, "3309999999/same.pdf", pdf_bytes(seed=1))
    write(b, "3309999999/B0001/other.pdf", pdf_bytes(seed=2))
    rep = ingest_folder(svc, b, dispatcher=dispatcher)
    assert rep.counts == {"files": 2, "stored": 0, "duplicate": 1, "quarantined": 1}
    with svc.sessions() as s:
        rows = {f.rel_path: f for f in s.scalars(select(IngestFile).where(
            IngestFile.batch_id == rep.batch_id))}
        assert "belongs to customer 3301000001" in rows["3309999999/B0001/other.pdf"].reason
        assert s.scalar(select(func.count()).select_from(Document)) == 1


def test_manifest_places_loose_files(svc: Services, tmp_path: Path,
                                     dispatcher: RecordingDispatcher) -> None:
    root = tmp_path / "m"
    write(root, "scan_0001.pdf", pdf_bytes(seed=3))
    write(root, "manifest.csv", "\ufeffpath,customer_no,business_no,doc_type,customer_name,"
          "business_type\nscan_0001.pdf,3301000077,HV-77,GYDHT,王五,高压新装\n"
          "gone.pdf,3301000077,,,,\n".encode("utf-8"))
    rep = ingest_folder(svc, root, dispatcher=dispatcher)
    assert rep.counts["stored"] == 1 and rep.files == 1  # manifest.csv itself is not a scan
    assert any("gone.pdf" in w for w in rep.warnings)
    with svc.sessions() as s:
        doc = s.scalars(select(Document)).one()
        assert doc.doc_type == "GYDHT" and doc.type_confirmed
        assert doc.customer.name == "王五" and doc.business is not None
        assert doc.business.business_type == "HV_NEW"


def test_missing_root(svc: Services, tmp_path: Path, dispatcher: RecordingDispatcher) -> None:
    with pytest.raises(IngestRootError) as info:
        ingest_folder(svc, tmp_path / "nope", dispatcher=dispatcher)
    assert info.value.exit_code == 2
    (tmp_path / "file").write_text("x")
    with pytest.raises(IngestRootError, match="not a directory"):
        ingest_folder(svc, tmp_path / "file", dispatcher=dispatcher)
