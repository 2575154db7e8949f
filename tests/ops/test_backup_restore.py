"""`dms backup` / `dms restore`: back up a populated system, restore it into an empty one,
then `dms reindex` and `dms fsck` find everything. On the embedded default (SQLite, local
folder, tantivy) and on PostgreSQL + S3 (SeaweedFS)."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dms.cli import cli
from dms.db.models import Document, Page
from dms.services.backup import backup, restore
from dms.services.container import Services, build_services
from dms.settings import load_settings
from dms.testing.postgres import ThrowawayPostgres
from dms.testing.seaweed import SeaweedS3
from tests.ingest.conftest import make_services
from tests.ops.archive import populate

_db = iter(range(1000))


def _env(svc: Services) -> dict[str, str]:
    s = svc.settings
    env = {"DMS_DATA_DIR": str(s.data_dir), "DMS_DATABASE_URL": s.database_url,
           "DMS_OBJECT_STORE": s.object_store}
    if s.object_store == "s3":
        env.update(DMS_S3_ENDPOINT_URL=s.s3_endpoint_url, DMS_S3_BUCKET=s.s3_bucket,
                   DMS_S3_ACCESS_KEY=s.s3_access_key,
                   DMS_S3_SECRET_KEY=s.s3_secret_key.get_secret_value())
    return env


def _invoke(svc: Services, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env=_env(svc))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _snapshot(svc: Services) -> dict[str, Any]:
    with svc.sessions() as s:
        docs = {d.sha256: (d.original_key, d.size_bytes, d.ocr_status)
                for d in s.scalars(select(Document))}
        pages = s.scalar(select(func.count()).select_from(Page))
    keys = sorted(svc.store.iter_keys())
    return {"docs": docs, "pages": pages, "keys": keys,
            "bytes": {k: svc.store.get_bytes(k) for k in keys}}


def _round_trip(source: Services, target: Services, tmp_path: Path) -> None:
    arch = populate(source, customers=3)
    dest = tmp_path / "backup"
    out = _invoke(source, "backup", str(dest)).output
    assert "backup done" in out
    manifest = json.loads((dest / "manifest.json").read_text())
    n_objects = len(list(source.store.iter_keys()))
    assert manifest["objects"]["count"] == manifest["objects"]["copied"] == n_objects
    assert manifest["database"]["revision"]
    settings_json = (dest / "settings.json").read_text()
    assert source.settings.secret_key.get_secret_value() not in settings_json  # no secrets
    assert (dest / "config" / "checklists.yaml").is_file()

    # Incremental: a second run copies only what is new.
    populate(source, customers=1, start=50)
    backup(source, dest)
    manifest2 = json.loads((dest / "manifest.json").read_text())
    assert manifest2["objects"]["count"] == len(list(source.store.iter_keys()))
    assert 0 < manifest2["objects"]["copied"] < n_objects
    before = _snapshot(source)

    _invoke(target, "restore", str(dest))
    after = _snapshot(target)
    assert after == before
    # A second restore into the now non-empty system is refused.
    again = CliRunner().invoke(cli, ["restore", str(dest)], env=_env(target))
    assert again.exit_code != 0 and "not empty" in str(again.exception)
    _invoke(target, "db", "upgrade")
    assert "indexed" in _invoke(target, "reindex").output
    fsck = _invoke(target, "fsck", "--json", "--sample", "100")
    report = json.loads(fsck.stdout)
    assert report["ok"] and report["documents"] == len(arch.documents) + 2
    assert report["index_pages"] == report["expected_index_pages"] == before["pages"]
    hits = json.loads(_invoke(target, "search", "供用电合同", "--json").stdout)
    assert hits["total"] > 0


def test_backup_restore_embedded(tmp_path: Path) -> None:
    source = make_services(tmp_path / "a")
    target = build_services(load_settings(data_dir=tmp_path / "b", _env_file=None))
    try:
        _round_trip(source, target, tmp_path)
    finally:
        source.close()
        target.close()


def test_restore_refuses_a_system_with_data(tmp_path: Path) -> None:
    source = make_services(tmp_path / "a")
    populate(source, customers=1)
    backup(source, tmp_path / "bk")
    used = make_services(tmp_path / "c")  # `dms db upgrade` ran: the schema exists
    try:
        from dms.errors import ConflictError

        with pytest.raises(ConflictError, match="database is not empty"):
            restore(used, tmp_path / "bk")
        assert not list(used.store.iter_keys())
    finally:
        source.close()
        used.close()


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def _pg_s3(pg: ThrowawayPostgres, s3: SeaweedS3, data_dir: Path) -> Services:
    return build_services(load_settings(
        data_dir=data_dir, _env_file=None, database_url=pg.create_database(f"bk{next(_db)}"),
        object_store="s3", s3_endpoint_url=s3.endpoint_url, s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key, s3_bucket=f"bk-{uuid.uuid4().hex[:12]}",
        secret_key="s3cr3t-value"))


@pytest.mark.postgres
@pytest.mark.s3
def test_backup_restore_postgres_s3(postgres: ThrowawayPostgres, seaweed: SeaweedS3,
                                    tmp_path: Path) -> None:
    from dms.db.migrate import upgrade

    source = _pg_s3(postgres, seaweed, tmp_path / "a")
    upgrade(source.settings.database_url)
    target = _pg_s3(postgres, seaweed, tmp_path / "b")
    try:
        _round_trip(source, target, tmp_path)
    finally:
        source.close()
        target.close()
