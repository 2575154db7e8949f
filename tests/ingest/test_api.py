"""The station upload API on a minimal Flask app (real DB, real store, recording dispatcher)."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dms.db.models import Document
from dms.services.container import Services
from dms.web.ingest_api import ingest_api
from tests.ingest.conftest import RecordingDispatcher, jpeg_bytes, make_services, pdf_bytes

TOKEN = "station-secret-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(services: Services, dispatcher: RecordingDispatcher) -> Flask:
    app = Flask("ingest-api-test")
    app.extensions["dms"] = services
    app.extensions["dms_dispatcher"] = dispatcher
    app.register_blueprint(ingest_api)
    return app


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    s = make_services(tmp_path / "data", station_token=TOKEN)
    yield s
    s.close()


@pytest.fixture
def client(svc: Services, dispatcher: RecordingDispatcher) -> FlaskClient:
    return make_app(svc, dispatcher).test_client()


def test_disabled_without_token(tmp_path: Path, dispatcher: RecordingDispatcher) -> None:
    svc = make_services(tmp_path / "d2")  # station_token empty
    res = make_app(svc, dispatcher).test_client().post("/api/v1/ingest/batches", headers=AUTH)
    assert res.status_code == 403
    assert res.json is not None and res.json["error"]["code"] == "ingest_api_disabled"
    svc.close()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_bad_credentials(client: FlaskClient, headers: dict[str, str]) -> None:
    res = client.post("/api/v1/ingest/batches", headers=headers)
    assert res.status_code == 401
    assert res.json is not None and res.json["error"]["code"] == "unauthorized"


def test_upload_flow(client: FlaskClient, svc: Services, dispatcher: RecordingDispatcher) -> None:
    res = client.post("/api/v1/ingest/batches", json={"station": "营业厅-1"}, headers=AUTH)
    assert res.status_code == 201 and res.json is not None
    batch_id = res.json["batch_id"]
    pdf, jpg = pdf_bytes(seed=1), jpeg_bytes(seed=2)
    form = {
        "path": ["3301000001_张三\\B2023-0001_低压居民新装\\合同 1.pdf", "3301000001_张三/照片.jpg",
                 "../../etc/passwd", "3301000001_张三/again.pdf"],
        "file": [(io.BytesIO(pdf), "a.pdf"), (io.BytesIO(jpg), "b.jpg"),
                 (io.BytesIO(b"root:x:0:0"), "p"), (io.BytesIO(pdf), "c.pdf")],
    }
    res = client.post(f"/api/v1/ingest/batches/{batch_id}/files", data=form, headers=AUTH,
                      content_type="multipart/form-data")
    assert res.status_code == 200, res.json
    assert res.json is not None
    results = {r["path"]: r for r in res.json["results"]}
    assert results["3301000001_张三/B2023-0001_低压居民新装/合同 1.pdf"]["outcome"] in (
        "stored", "duplicate")
    assert results["3301000001_张三/照片.jpg"]["outcome"] == "stored"
    bad = results["../../etc/passwd"]
    assert bad["outcome"] == "quarantined" and "'..'" in bad["reason"]
    assert svc.store.get_bytes(bad["quarantine_key"]) == b"root:x:0:0"
    assert sorted(r["outcome"] for r in results.values()) == [
        "duplicate", "quarantined", "stored", "stored"]
    assert list((svc.settings.work_dir / "ingest-upload").iterdir()) == []  # temps removed
    with svc.sessions() as s:
        docs = list(s.scalars(select(Document)))
    assert len(docs) == 2 and sorted(dispatcher.ocr_documents) == sorted(d.id for d in docs)

    res = client.get(f"/api/v1/ingest/batches/{batch_id}", headers=AUTH)
    assert res.json is not None and res.json["status"] == "open"
    assert res.json["report"]["counts"]["stored"] == 2
    res = client.post(f"/api/v1/ingest/batches/{batch_id}/close", headers=AUTH)
    assert res.status_code == 200 and res.json is not None
    assert res.json["report"]["counts"] == {"files": 4, "stored": 2, "duplicate": 1,
                                            "quarantined": 1}
    assert svc.store.exists(f"reports/batch-{batch_id}.json")
    res = client.post(f"/api/v1/ingest/batches/{batch_id}/files", headers=AUTH,
                      data={"file": [(io.BytesIO(jpg), "x.jpg")]},
                      content_type="multipart/form-data")
    assert res.status_code == 409 and res.json is not None
    assert res.json["error"]["code"] == "conflict"
    res = client.get(f"/api/v1/ingest/batches/{batch_id}", headers=AUTH)
    assert res.json is not None and res.json["status"] == "done"


def test_errors_are_json(client: FlaskClient) -> None:
    res = client.get("/api/v1/ingest/batches/999", headers=AUTH)
    assert res.status_code == 404 and res.json is not None
    assert res.json["error"]["code"] == "not_found"
    batch_id = client.post("/api/v1/ingest/batches", headers=AUTH).json["batch_id"]  # type: ignore[index]
    res = client.post(f"/api/v1/ingest/batches/{batch_id}/files", headers=AUTH,
                      data={"path": ["a", "b"], "file": [(io.BytesIO(b"x"), "a")]},
                      content_type="multipart/form-data")
    assert res.status_code == 400 and res.json is not None
    assert res.json["error"]["code"] == "invalid_input"
