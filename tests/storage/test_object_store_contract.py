"""One behaviour contract, run against every ObjectStore implementation.

Style of fsspec's ``tests/abstract``: ``ObjectStoreContract`` holds the tests,
each backend subclasses it and provides a ``store`` fixture.
"""

from __future__ import annotations

import hashlib
import os
import threading
import tracemalloc
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import pytest
from botocore.exceptions import BotoCoreError, ClientError

import dms.storage.local as local_mod
from dms.errors import InvalidInputError, ObjectNotFoundError, StorageError
from dms.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from dms.storage.base import TEMP_PREFIX
from dms.testing.seaweed import SeaweedS3

BAD_KEYS = [
    "",
    "/abs/key",
    "..",
    "a/../b",
    "a/..",
    "a\\b",
    "a\x00b",
    "a//b",
    "a/",
    "./a",
    f"a/{TEMP_PREFIX}x",
]
CHINESE_KEY = "档案/客户/张三-电费单 2024年.pdf"


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class ObjectStoreContract:
    """Tests every ObjectStore must pass. Subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def store(self) -> ObjectStore:
        raise NotImplementedError

    def assert_listing_is_paged(self, store: ObjectStore, prefix: str) -> None:
        """Backends with paged listings prove the pagination test really crosses a page."""

    def test_satisfies_protocol(self, store: ObjectStore) -> None:
        assert isinstance(store, ObjectStore)
        assert store.name in ("local", "s3")

    # --- round trips ---------------------------------------------------------
    def test_put_get_bytes_round_trip(self, store: ObjectStore) -> None:
        data = bytes(range(256)) * 10
        store.put_bytes("docs/a.bin", data, content_type="application/octet-stream")
        assert store.get_bytes("docs/a.bin") == data
        assert store.size("docs/a.bin") == len(data)

    def test_empty_object(self, store: ObjectStore) -> None:
        store.put_bytes("empty", b"")
        assert store.exists("empty")
        assert store.get_bytes("empty") == b""
        assert store.size("empty") == 0

    def test_put_file_round_trip(self, store: ObjectStore, tmp_path: Path) -> None:
        src = tmp_path / "small.txt"
        src.write_bytes(b"hello archive\n" * 100)
        store.put_file("originals/small.txt", src, content_type="text/plain")
        assert store.get_bytes("originals/small.txt") == src.read_bytes()

    def test_large_file_multipart_round_trip(
        self, store: ObjectStore, big_file: Path, tmp_path: Path
    ) -> None:
        store.put_file("originals/big.bin", big_file, content_type="application/pdf")
        assert store.size("originals/big.bin") == big_file.stat().st_size
        dest = tmp_path / "out" / "big.bin"
        store.download("originals/big.bin", dest)
        assert _sha(dest) == _sha(big_file)

    def test_put_file_streams_instead_of_reading_whole_file(
        self, store: ObjectStore, big_file: Path
    ) -> None:
        size = big_file.stat().st_size
        tracemalloc.start()
        try:
            store.put_file("originals/streamed.bin", big_file)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # Reading the whole file would need at least `size` bytes at once.
        assert peak < size * 0.8, f"peak {peak} bytes while uploading {size} bytes"
        assert store.size("originals/streamed.bin") == size

    def test_open_read_streams_in_chunks(self, store: ObjectStore, big_file: Path) -> None:
        store.put_file("originals/big.bin", big_file)
        h = hashlib.sha256()
        reads = 0
        with store.open_read("originals/big.bin") as fh:
            while chunk := fh.read(1 << 20):
                assert len(chunk) <= 1 << 20
                h.update(chunk)
                reads += 1
        assert fh.closed
        assert reads >= 12
        assert h.hexdigest() == _sha(big_file)

    def test_open_read_partial_reads(self, store: ObjectStore) -> None:
        store.put_bytes("p", b"0123456789")
        fh: BinaryIO = store.open_read("p")
        try:
            assert fh.read(3) == b"012"
            assert fh.read(4) == b"3456"
            assert fh.read() == b"789"
            assert fh.read() == b""
        finally:
            fh.close()

    def test_download_creates_parent_and_replaces(self, store: ObjectStore, tmp_path: Path) -> None:
        store.put_bytes("k", b"new content")
        dest = tmp_path / "deep" / "dir" / "file"
        store.download("k", dest)
        assert dest.read_bytes() == b"new content"
        store.put_bytes("k", b"newer")
        store.download("k", dest)
        assert dest.read_bytes() == b"newer"
        assert sorted(os.listdir(dest.parent)) == ["file"]

    def test_download_of_missing_key_leaves_dest_untouched(
        self, store: ObjectStore, tmp_path: Path
    ) -> None:
        dest = tmp_path / "dl" / "keep.txt"
        dest.parent.mkdir()
        dest.write_bytes(b"old")
        with pytest.raises(ObjectNotFoundError):
            store.download("missing/key", dest)
        assert dest.read_bytes() == b"old"
        assert os.listdir(dest.parent) == ["keep.txt"]  # no temp debris

    def test_missing_source_file_is_a_storage_error(
        self, store: ObjectStore, tmp_path: Path
    ) -> None:
        with pytest.raises(StorageError):
            store.put_file("k", tmp_path / "does-not-exist")
        assert list(store.iter_keys()) == []

    def test_large_put_bytes_round_trip(self, store: ObjectStore) -> None:
        data = os.urandom(6 * 1024 * 1024)  # above the 5 MB multipart threshold
        store.put_bytes("big/bytes", data)
        assert store.get_bytes("big/bytes") == data

    # --- exists / size / delete ---------------------------------------------
    def test_exists_size_delete(self, store: ObjectStore) -> None:
        assert not store.exists("a/b/c")
        store.put_bytes("a/b/c", b"xyz")
        assert store.exists("a/b/c")
        assert store.size("a/b/c") == 3
        store.delete("a/b/c")
        assert not store.exists("a/b/c")
        assert list(store.iter_keys()) == []

    def test_delete_missing_key_is_not_an_error(self, store: ObjectStore) -> None:
        store.delete("never/was/here")
        assert not store.exists("never/was/here")

    def test_prefix_of_a_key_is_not_an_object(self, store: ObjectStore) -> None:
        store.put_bytes("dir/file", b"1")
        assert not store.exists("dir")
        with pytest.raises(ObjectNotFoundError):
            store.get_bytes("dir")

    def test_missing_key_raises_object_not_found(self, store: ObjectStore) -> None:
        for op in ("get_bytes", "open_read", "size"):
            with pytest.raises(ObjectNotFoundError) as info:
                getattr(store, op)("no/such/key")
            assert "no/such/key" in str(info.value), op

    def test_overwrite_replaces_content(self, store: ObjectStore, tmp_path: Path) -> None:
        store.put_bytes("over", b"first version, longer")
        store.put_bytes("over", b"second")
        assert store.get_bytes("over") == b"second"
        src = tmp_path / "third"
        src.write_bytes(b"3")
        store.put_file("over", src)
        assert store.get_bytes("over") == b"3"
        assert list(store.iter_keys()) == ["over"]

    # --- listing --------------------------------------------------------------
    def test_iter_keys_with_prefix(self, store: ObjectStore) -> None:
        keys = ["a/1", "a/2", "a/sub/3", "ab/4", "b/5", "top"]
        for k in keys:
            store.put_bytes(k, k.encode())
        assert sorted(store.iter_keys()) == keys
        assert sorted(store.iter_keys("a/")) == ["a/1", "a/2", "a/sub/3"]
        assert sorted(store.iter_keys("a")) == ["a/1", "a/2", "a/sub/3", "ab/4"]
        assert sorted(store.iter_keys("a/s")) == ["a/sub/3"]
        assert sorted(store.iter_keys("zzz/")) == []

    def test_iter_keys_is_complete_beyond_one_page(self, store: ObjectStore) -> None:
        # S3 returns at most 1000 keys per page; the store must follow continuation tokens.
        keys = [f"many/{i:05d}" for i in range(1100)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda k: store.put_bytes(k, b"x"), keys))
        store.put_bytes("other/1", b"y")
        self.assert_listing_is_paged(store, "many/")
        assert sorted(store.iter_keys("many/")) == keys
        assert len(list(store.iter_keys())) == 1101

    def test_iter_keys_rejects_bad_prefix(self, store: ObjectStore) -> None:
        for prefix in ["/abs", "../x", "a/../b", "a\\b", "a\x00"]:
            with pytest.raises(InvalidInputError):
                list(store.iter_keys(prefix))

    # --- keys -----------------------------------------------------------------
    def test_bad_keys_are_rejected(self, store: ObjectStore, tmp_path: Path) -> None:
        # One test looping over keys: a fresh S3 bucket per parametrized case costs ~0.5 s.
        for key in BAD_KEYS:
            self._assert_key_rejected(store, key, tmp_path)
        assert list(store.iter_keys()) == []

    def _assert_key_rejected(self, store: ObjectStore, key: str, tmp_path: Path) -> None:
        src = tmp_path / "f"
        src.write_bytes(b"1")
        calls: list[Callable[[], object]] = [
            lambda: store.put_bytes(key, b"1"),
            lambda: store.put_file(key, src),
            lambda: store.get_bytes(key),
            lambda: store.open_read(key),
            lambda: store.download(key, tmp_path / "d"),
            lambda: store.exists(key),
            lambda: store.size(key),
            lambda: store.delete(key),
            lambda: store.url_for(key),
        ]
        for i, call in enumerate(calls):
            with pytest.raises(InvalidInputError):
                call()
                pytest.fail(f"call #{i} accepted bad key {key!r}")

    def test_chinese_keys(self, store: ObjectStore, tmp_path: Path) -> None:
        store.put_bytes(CHINESE_KEY, "电费".encode())
        assert store.exists(CHINESE_KEY)
        assert store.get_bytes(CHINESE_KEY).decode() == "电费"
        assert list(store.iter_keys("档案/")) == [CHINESE_KEY]
        assert list(store.iter_keys("档案/客户/张")) == [CHINESE_KEY]
        store.download(CHINESE_KEY, tmp_path / "下载.pdf")
        assert (tmp_path / "下载.pdf").read_bytes() == "电费".encode()
        store.delete(CHINESE_KEY)
        assert not store.exists(CHINESE_KEY)

    # --- concurrency ----------------------------------------------------------
    def test_concurrent_puts_from_threads(self, store: ObjectStore) -> None:
        def put(i: int) -> None:
            store.put_bytes(f"conc/{i:03d}", f"value {i}".encode() * 100)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(put, range(64)))
        assert len(list(store.iter_keys("conc/"))) == 64
        for i in range(64):
            assert store.get_bytes(f"conc/{i:03d}") == f"value {i}".encode() * 100

    def test_concurrent_puts_to_one_key_never_mix(self, store: ObjectStore) -> None:
        values = [bytes([i]) * 200_000 for i in range(12)]
        barrier = threading.Barrier(len(values))

        def put(data: bytes) -> None:
            barrier.wait()
            store.put_bytes("same/key", data)

        with ThreadPoolExecutor(max_workers=len(values)) as pool:
            list(pool.map(put, values))
        assert store.get_bytes("same/key") in values  # one whole version, not a blend
        assert list(store.iter_keys()) == ["same/key"]


class TestLocalObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalObjectStore:
        return LocalObjectStore(tmp_path / "objects")

    def test_root_is_created(self, tmp_path: Path) -> None:
        root = tmp_path / "x" / "y"
        LocalObjectStore(root)
        assert root.is_dir()

    def test_url_for_is_none(self, store: LocalObjectStore) -> None:
        store.put_bytes("k", b"1")
        assert store.url_for("k") is None

    def test_failed_put_leaves_old_object_and_no_debris(
        self,
        store: LocalObjectStore,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        big_file: Path,
    ) -> None:
        store.put_bytes("doc/a.pdf", b"old version")
        seen_mid_write: list[bytes] = []

        def failing_copy(src: BinaryIO, dst: BinaryIO) -> None:
            dst.write(src.read(1 << 20))
            dst.flush()
            # A reader during the write must still get the complete old object.
            seen_mid_write.append(store.get_bytes("doc/a.pdf"))
            seen_mid_write.append(str(list(store.iter_keys())).encode())
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(local_mod, "copy_stream", failing_copy)
        with pytest.raises(StorageError) as info:
            store.put_file("doc/a.pdf", big_file)
        assert "doc/a.pdf" in str(info.value)
        assert seen_mid_write == [b"old version", b"['doc/a.pdf']"]
        assert store.get_bytes("doc/a.pdf") == b"old version"
        assert os.listdir(store.root / "doc") == ["a.pdf"]
        with pytest.raises(StorageError):
            store.put_file("doc/new.pdf", big_file)
        assert not store.exists("doc/new.pdf")
        assert list(store.iter_keys()) == ["doc/a.pdf"]

    def test_iter_keys_ignores_crash_debris(self, store: LocalObjectStore) -> None:
        store.put_bytes("d/real", b"1")
        (store.root / "d" / f"{TEMP_PREFIX}abc123").write_bytes(b"partial")
        assert list(store.iter_keys()) == ["d/real"]

    def test_objects_are_plain_files_under_root(self, store: LocalObjectStore) -> None:
        store.put_bytes("x/y.txt", b"1")
        path = store.root / "x" / "y.txt"
        assert path.read_bytes() == b"1"
        assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.s3
class TestS3ObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, s3_store: S3ObjectStore) -> S3ObjectStore:
        return s3_store

    def test_large_upload_really_is_multipart(self, store: S3ObjectStore, big_file: Path) -> None:
        store.put_file("mp/big.bin", big_file)
        etag = store._client.head_object(Bucket=store.bucket, Key="mp/big.bin")["ETag"]
        assert etag.strip('"').endswith("-3"), etag  # 12 MB in 5 MB parts

    def assert_listing_is_paged(self, store: ObjectStore, prefix: str) -> None:
        assert isinstance(store, S3ObjectStore)
        first = store._client.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
        assert first["IsTruncated"], "server returned everything in one page"

    def test_content_type_is_stored(self, store: S3ObjectStore, tmp_path: Path) -> None:
        src = tmp_path / "a.pdf"
        src.write_bytes(b"%PDF-1.4")
        store.put_file("ct/a.pdf", src, content_type="application/pdf")
        head = store._client.head_object(Bucket=store.bucket, Key="ct/a.pdf")
        assert head["ContentType"] == "application/pdf"

    def test_url_for_is_a_working_presigned_get(self, store: S3ObjectStore) -> None:
        store.put_bytes(CHINESE_KEY, b"signed")
        url = store.url_for(CHINESE_KEY)
        assert url is not None and "X-Amz-Signature" in url
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == b"signed"

    def test_wrong_secret_key_is_a_clear_storage_error(
        self, store: S3ObjectStore, seaweed_s3: SeaweedS3
    ) -> None:
        bad = S3ObjectStore(
            seaweed_s3.endpoint_url,
            store.bucket,
            seaweed_s3.access_key,
            "wrong-secret",
            multipart_threshold_mb=5,
        )
        for call in (
            lambda: bad.put_bytes("secret/k", b"1"),
            lambda: bad.get_bytes("secret/k"),
            lambda: bad.exists("secret/k"),
        ):
            with pytest.raises(StorageError) as info:
                call()
            exc = info.value
            assert not isinstance(exc, ObjectNotFoundError)
            assert not isinstance(exc, (BotoCoreError, ClientError))
            msg = str(exc)
            assert seaweed_s3.endpoint_url in msg
            assert f"s3://{store.bucket}/secret/k" in msg
            assert "SignatureDoesNotMatch" in msg or "403" in msg
        assert not store.exists("secret/k")

    def test_unreachable_endpoint_is_a_storage_error(self, seaweed_s3: SeaweedS3) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        dead = S3ObjectStore(f"http://127.0.0.1:{closed_port}", "b", "k", "s", max_attempts=1)
        with pytest.raises(StorageError) as info:
            dead.get_bytes("x")
        assert f"127.0.0.1:{closed_port}" in str(info.value)
        with pytest.raises(StorageError):
            list(dead.iter_keys())
        with pytest.raises(StorageError):
            dead.ensure_bucket()

    def test_ensure_bucket_creates_once(self, seaweed_s3: SeaweedS3) -> None:
        fresh = S3ObjectStore(
            seaweed_s3.endpoint_url, "fresh-bucket", seaweed_s3.access_key, seaweed_s3.secret_key
        )

        def buckets() -> set[str]:
            return {b["Name"] for b in fresh._client.list_buckets()["Buckets"]}

        assert "fresh-bucket" not in buckets()
        fresh.ensure_bucket()
        assert "fresh-bucket" in buckets()
        fresh.ensure_bucket()  # idempotent
        fresh.put_bytes("k", b"1")
        assert fresh.get_bytes("k") == b"1"

    def test_server_bucket_exists(self, seaweed_s3: SeaweedS3) -> None:
        # The session server pre-creates its configured bucket via S3_BUCKET.
        store = S3ObjectStore(
            seaweed_s3.endpoint_url, seaweed_s3.bucket, seaweed_s3.access_key, seaweed_s3.secret_key
        )
        store.put_bytes("hello", b"world")
        assert store.get_bytes("hello") == b"world"
