"""The same ingest against a real S3 server (SeaweedFS on loopback)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from dms.db.models import Document
from dms.testing.seaweed import SeaweedS3
from ingest import ingest_folder
from tests.ingest.conftest import RecordingDispatcher, make_services, pdf_bytes, png_bytes, write


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.mark.s3
def test_ingest_into_s3(seaweed: SeaweedS3, tmp_path: Path) -> None:
    svc = make_services(tmp_path / "data", object_store="s3",
                        s3_endpoint_url=seaweed.endpoint_url, s3_access_key=seaweed.access_key,
                        s3_secret_key=seaweed.secret_key, s3_bucket=f"i-{uuid.uuid4().hex[:12]}",
                        s3_multipart_threshold_mb=5)
    svc.store.ensure_bucket()  # type: ignore[attr-defined]
    root = tmp_path / "station"
    big = b"%PDF-1.4\n" + bytes(range(256)) * 30_000  # 7.7 MB: multipart, then not a valid PDF
    files = {"3301000001/B0001/a.pdf": pdf_bytes(seed=1), "3301000001/b.png": png_bytes(seed=2),
             "3301000002/big.pdf": big}
    for rel, data in files.items():
        write(root, rel, data)
    dispatcher = RecordingDispatcher()
    rep = ingest_folder(svc, root, dispatcher=dispatcher, workers=4)
    assert rep.counts == {"files": 3, "stored": 2, "duplicate": 0, "quarantined": 1}
    with svc.sessions() as s:
        for doc in s.scalars(select(Document)):
            assert svc.store.get_bytes(doc.original_key) == files[doc.source_name]
    assert svc.store.size(next(iter(svc.store.iter_keys("quarantine/")))) == len(big)
    assert svc.store.exists(f"reports/batch-{rep.batch_id}.txt")
    again = ingest_folder(svc, root, dispatcher=dispatcher, workers=4)
    assert again.counts == {"files": 3, "stored": 0, "duplicate": 2, "quarantined": 1}
    assert len(dispatcher.ocr_documents) == 2
    svc.close()
