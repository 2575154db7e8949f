"""Fixtures for the object-store tests: one real SeaweedFS S3 server per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms.storage.s3 import S3ObjectStore
from dms.testing.seaweed import SeaweedS3

#: S3's minimum part size, so the ~12 MB test file is uploaded in three parts.
MULTIPART_THRESHOLD_MB = 5


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    # No skip when weed is missing: a silently skipped S3 suite would hide regressions.
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def s3_store(seaweed_s3: SeaweedS3) -> S3ObjectStore:
    """A store on a fresh bucket, so listings of one test never see another's keys."""
    store = S3ObjectStore(
        endpoint_url=seaweed_s3.endpoint_url,
        bucket=f"t-{uuid.uuid4().hex[:16]}",
        access_key=seaweed_s3.access_key,
        secret_key=seaweed_s3.secret_key,
        region="us-east-1",
        multipart_threshold_mb=MULTIPART_THRESHOLD_MB,
    )
    store.ensure_bucket()
    return store


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~12 MB of incompressible bytes, above the multipart threshold."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    rnd = uuid.uuid4().bytes * 16  # 256 bytes
    with open(path, "wb") as fh:
        for i in range(12 * 4096 + 7):
            fh.write(i.to_bytes(4, "big") + rnd[:252])
    return path
