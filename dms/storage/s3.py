"""Object store on S3 or anything speaking its plain API (MinIO, SeaweedFS).

Only core S3 calls are used, with path-style addressing, so self-hosted
servers work without DNS tricks. One boto3 client is created per store and
shared by all threads (boto3 clients are thread-safe; sessions are not).
Every botocore failure is translated into dms errors here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

try:
    import boto3
    from boto3.exceptions import Boto3Error
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as _exc:  # pragma: no cover - exercised only without boto3
    from dms.errors import MissingDependencyError

    raise MissingDependencyError(
        "the s3 object store needs boto3", hint="pip install boto3"
    ) from _exc

from dms.errors import ObjectNotFoundError, StorageError
from dms.storage.base import (
    CHUNK_SIZE,
    atomic_write,
    storage_error,
    validate_key,
    validate_prefix,
)

MIB = 1024 * 1024
#: S3 rejects multipart parts under 5 MiB (except the last one).
MIN_PART_SIZE = 5 * MIB
PRESIGN_SECONDS = 3600

# Error codes that mean "this object (or its bucket path) is not there".
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET_CODES = {"404", "NoSuchBucket", "NotFound"}


class S3ObjectStore:
    """Objects in one bucket. Call :meth:`ensure_bucket` once at startup."""

    name = "s3"

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        multipart_threshold_mb: int = 16,
        *,
        max_attempts: int = 5,
    ) -> None:
        if not bucket:
            raise StorageError("the s3 object store needs a bucket name (DMS_S3_BUCKET)")
        self.endpoint_url = endpoint_url or None  # None = real AWS
        self.bucket = bucket
        self.region = region or "us-east-1"
        config = Config(
            region_name=self.region,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # Standard mode retries throttling and 5xx with backoff; bounded timeouts
            # keep a dead endpoint from hanging workers forever.
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=32,
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            # Empty strings mean "use the default credential chain" (env, IAM role).
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=config,
        )
        threshold = max(int(multipart_threshold_mb), 5) * MIB
        self._transfer = TransferConfig(
            multipart_threshold=threshold,
            multipart_chunksize=max(threshold, MIN_PART_SIZE),
            max_concurrency=4,
            io_chunksize=256 * 1024,
        )

    def __repr__(self) -> str:
        return f"S3ObjectStore(endpoint={self._endpoint!r}, bucket={self.bucket!r})"

    @property
    def _endpoint(self) -> str:
        return self.endpoint_url or "AWS"

    def _fail(self, action: str, key: str | None, exc: Exception) -> StorageError:
        """Translate a boto error; 'not found' on an object becomes ObjectNotFoundError."""
        where = f"s3://{self.bucket}/{key}" if key else f"bucket {self.bucket!r}"
        code = _error_code(exc)
        if key is not None and code in _NOT_FOUND_CODES:
            return ObjectNotFoundError(f"no such object: {where} at {self._endpoint}")
        detail = f"{code}: {_error_message(exc)}" if code else f"{type(exc).__name__}: {exc}"
        return StorageError(f"S3 {action} failed for {where} at {self._endpoint}: {detail}")

    # --- bucket ---------------------------------------------------------------
    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (idempotent, race-safe)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NO_BUCKET_CODES:
                raise self._fail("head bucket", None, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("head bucket", None, exc) from exc
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":  # AWS rejects an explicit us-east-1 constraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as exc:
            if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise self._fail("create bucket", None, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("create bucket", None, exc) from exc

    # --- writes ---------------------------------------------------------------
    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        validate_key(key)
        extra = {"ContentType": content_type} if content_type else None
        try:
            if path.stat().st_size < self._transfer.multipart_threshold:
                # One streamed PUT: the transfer manager's per-call thread pool and
                # futures cost more CPU than the upload itself for typical scans.
                with path.open("rb") as fh:
                    self._client.put_object(Bucket=self.bucket, Key=key, Body=fh,
                                            **({"ContentType": content_type}
                                               if content_type else {}))
                return
            # Large files: multipart; S3 makes the object visible only when complete.
            self._client.upload_file(
                str(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer
            )
        except (ClientError, BotoCoreError, Boto3Error, OSError) as exc:
            raise self._fail(f"upload of {path}", key, exc) from exc

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        validate_key(key)
        try:
            if len(data) < self._transfer.multipart_threshold:
                # One PUT: skips the transfer manager's thread pool, which dominates small puts.
                extra_put = {"ContentType": content_type} if content_type else {}
                self._client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra_put)
            else:
                extra = {"ContentType": content_type} if content_type else None
                self._client.upload_fileobj(
                    io.BytesIO(data), self.bucket, key, ExtraArgs=extra, Config=self._transfer
                )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise self._fail("upload", key, exc) from exc

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return
            raise self._fail("delete", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("delete", key, exc) from exc

    # --- reads ----------------------------------------------------------------
    def open_read(self, key: str) -> BinaryIO:
        validate_key(key)
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("get", key, exc) from exc
        return io.BufferedReader(_BodyReader(body, self, key), buffer_size=CHUNK_SIZE)

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as fh:
            return fh.read()

    def download(self, key: str, dest: Path) -> None:
        validate_key(key)

        def fetch(fh: BinaryIO) -> None:
            self._client.download_fileobj(self.bucket, key, fh, Config=self._transfer)

        try:
            atomic_write(Path(dest), fetch)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise self._fail(f"download to {dest}", key, exc) from exc
        except OSError as exc:
            raise storage_error(f"writing {dest}", f"s3://{self.bucket}/{key}", exc) from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        validate_key(key)
        try:
            head: dict[str, Any] = self._client.head_object(Bucket=self.bucket, Key=key)
            return head
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return None
            raise self._fail("head", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("head", key, exc) from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            where = f"s3://{self.bucket}/{key} at {self._endpoint}"
            raise ObjectNotFoundError(f"no such object: {where}")
        return int(head["ContentLength"])

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            # The paginator follows continuation tokens, so listings beyond 1000 keys are complete.
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", ()):
                    yield obj["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(f"list (prefix {prefix!r})", None, exc) from exc

    def url_for(self, key: str) -> str | None:
        validate_key(key)
        try:
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=PRESIGN_SECONDS,
            )
            return url
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("presign", key, exc) from exc


class _BodyReader(io.RawIOBase):
    """Wraps botocore's StreamingBody so mid-stream failures surface as StorageError."""

    def __init__(self, body: Any, store: S3ObjectStore, key: str) -> None:
        super().__init__()
        self._body = body
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            chunk = self._body.read(len(view))
        except (ClientError, BotoCoreError, OSError) as exc:
            raise self._store._fail("read", self._key, exc) from exc
        n = len(chunk)
        view[:n] = chunk
        return n

    def readall(self) -> bytes:
        # RawIOBase.readall would loop in 8 KiB steps; let botocore read the rest in one go.
        try:
            data: bytes = self._body.read()
        except (ClientError, BotoCoreError, OSError) as exc:
            raise self._store._fail("read", self._key, exc) from exc
        return data

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    # boto3's S3UploadFailedError / transfer errors wrap the ClientError as the cause.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        return _error_code(cause)
    return ""


def _error_message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)
