"""The object-store seam: one small protocol, key rules and shared helpers.

Everything that stores originals, page images or OCR output talks to an
``ObjectStore``; the embedded mode uses a folder, scale-out uses S3/MinIO.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol, runtime_checkable

from dms.errors import InvalidInputError, StorageError

#: Copy buffer size: large enough for throughput, small enough to never matter for memory.
CHUNK_SIZE = 1024 * 1024

#: Temp files of atomic writes start with this; stores never list them and keys may not use it.
TEMP_PREFIX = ".dms-tmp-"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")


@runtime_checkable
class ObjectStore(Protocol):
    """A flat key -> bytes store. Keys are '/'-separated relative paths."""

    name: str

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Store the file at *path* under *key*, streaming and atomically."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store *data* under *key* atomically."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """Open *key* for streaming reads; the caller closes it (``with`` works)."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Return the whole object; only for objects known to be small."""
        ...

    def download(self, key: str, dest: Path) -> None:
        """Copy *key* to *dest* atomically (a partial *dest* is never visible)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove *key*; a missing key is not an error."""
        ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield every key starting with *prefix* (plain string prefix)."""
        ...

    def url_for(self, key: str) -> str | None:
        """A time-limited direct GET URL, or None when the backend has none."""
        ...


def validate_key(key: str) -> str:
    """Return *key* unchanged or raise InvalidInputError if it is not a safe relative path."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError("object key must be a non-empty string")
    _check_chars(key, "object key")
    if key.startswith("/"):
        raise InvalidInputError(f"object key must be relative, got {key!r}")
    for part in key.split("/"):
        # Empty and '.' parts would map two keys onto one local file.
        if part in ("", ".", ".."):
            raise InvalidInputError(f"object key has an empty, '.' or '..' component: {key!r}")
        if part.startswith(TEMP_PREFIX):
            raise InvalidInputError(f"object key component may not start with {TEMP_PREFIX!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Prefixes may be empty or end in '/', but follow the key rules otherwise."""
    if not prefix:
        return prefix
    _check_chars(prefix, "key prefix")
    if prefix.startswith("/"):
        raise InvalidInputError(f"key prefix must be relative, got {prefix!r}")
    if ".." in prefix.split("/"):
        raise InvalidInputError(f"key prefix has a '..' component: {prefix!r}")
    return prefix


def _check_chars(value: str, what: str) -> None:
    if "\\" in value:
        raise InvalidInputError(f"{what} may not contain backslashes: {value!r}")
    if "\x00" in value:
        raise InvalidInputError(f"{what} may not contain NUL characters: {value!r}")


def content_key(kind: str, sha256_hex: str, suffix: str = "") -> str:
    """``originals/ab/cd/<sha256><suffix>``: fan out so no directory grows huge."""
    if not _KIND.fullmatch(kind):
        raise InvalidInputError(f"content kind must match {_KIND.pattern}, got {kind!r}")
    digest = sha256_hex.lower() if isinstance(sha256_hex, str) else ""
    if not _HEX64.fullmatch(digest):
        raise InvalidInputError(f"not a sha256 hex digest: {sha256_hex!r}")
    if "/" in suffix:
        raise InvalidInputError(f"content key suffix may not contain '/': {suffix!r}")
    return validate_key(f"{kind}/{digest[:2]}/{digest[2:4]}/{digest}{suffix}")


_PAGE_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                     # OCR work files (a scan's G4 page, a rendered page): not for browsers
                     ".tif": "image/tiff", ".pgm": "image/x-portable-graymap",
                     ".ppm": "image/x-portable-pixmap"}


def page_image_mime(key: str) -> str:
    """The media type of a stored page image by its key's suffix (PNG unless it says
    otherwise: a one-page JPEG original is kept as the page image as it is)."""
    return _PAGE_IMAGE_TYPES.get(PurePosixPath(key).suffix.lower(), "image/png")


def atomic_write(dest: Path, writer: Callable[[BinaryIO], None]) -> None:
    """Run *writer* on a temp file next to *dest*, fsync, then rename it into place.

    On any failure the temp file is removed and *dest* is untouched, so readers
    see either the old object or the complete new one.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; stored objects should be readable like normal files.
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def copy_stream(src: BinaryIO, dst: BinaryIO) -> None:
    """Chunked copy so memory stays flat whatever the object size."""
    while chunk := src.read(CHUNK_SIZE):
        dst.write(chunk)


def storage_error(action: str, where: str, exc: BaseException) -> StorageError:
    """Uniform message: what failed, on which object, and the backend's reason."""
    hint = None
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # Nothing was half-written (atomic_write); the operator's fix is space, not repair.
        hint = ("对象存储所在磁盘已满：腾出空间后重新运行同一操作即可续完 / the object store's "
                "disk is full: free space, then run the same operation again to complete it")
    return StorageError(f"{action} failed for {where}: {type(exc).__name__}: {exc}", hint=hint)
