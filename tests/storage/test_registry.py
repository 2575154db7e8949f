"""make_object_store picks the backend named in settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from dms.errors import ConfigError
from dms.settings import Settings
from dms.storage import (
    LocalObjectStore,
    S3ObjectStore,
    make_object_store,
    register_object_store,
    registry,
)
from dms.storage.base import ObjectStore
from dms.testing.seaweed import SeaweedS3


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    # Explicit object_store and no .env: a developer's DMS_* environment must not leak in.
    values: dict[str, object] = {"data_dir": tmp_path, "object_store": "local", "_env_file": None}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_local_is_the_default(tmp_path: Path) -> None:
    store = make_object_store(_settings(tmp_path))
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "objects"
    assert store.root.is_dir()


def test_local_honours_object_store_path(tmp_path: Path) -> None:
    store = make_object_store(_settings(tmp_path, object_store_path=tmp_path / "elsewhere"))
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "elsewhere"


@pytest.mark.s3
def test_s3_is_built_from_settings_and_creates_its_bucket(
    tmp_path: Path, seaweed_s3: SeaweedS3
) -> None:
    settings = _settings(
        tmp_path,
        object_store="s3",
        s3_endpoint_url=seaweed_s3.endpoint_url,
        s3_bucket="registry-made",
        s3_access_key=seaweed_s3.access_key,
        s3_secret_key=seaweed_s3.secret_key,
        s3_multipart_threshold_mb=8,
    )
    store = make_object_store(settings)
    assert isinstance(store, S3ObjectStore)
    assert store.bucket == "registry-made"
    assert store.endpoint_url == seaweed_s3.endpoint_url
    assert store._transfer.multipart_threshold == 8 * 1024 * 1024
    buckets = {b["Name"] for b in store._client.list_buckets()["Buckets"]}
    assert "registry-made" in buckets
    store.put_bytes("k", b"v")
    assert store.get_bytes("k") == b"v"


def test_unknown_name_lists_known_ones(tmp_path: Path) -> None:
    # model_copy skips validation, as a hand-built or future Settings might.
    settings = _settings(tmp_path).model_copy(update={"object_store": "ftp"})
    with pytest.raises(ConfigError) as info:
        make_object_store(settings)
    text = str(info.value)
    assert "'ftp'" in text and "local" in text and "s3" in text


def test_registered_factory_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    made: list[Settings] = []

    @register_object_store("memory")
    def _make(settings: Settings) -> ObjectStore:
        made.append(settings)
        return LocalObjectStore(tmp_path / "mem")

    settings = _settings(tmp_path).model_copy(update={"object_store": "memory"})
    store = make_object_store(settings)
    assert made == [settings]
    assert isinstance(store, LocalObjectStore)
    assert "memory" in registry.known_object_stores()
