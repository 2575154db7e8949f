"""Object store on a local folder: the embedded mode's backend.

A key maps to ``root/<key>``. Writes go to a temp file in the target folder
and are renamed into place, so a crash or a concurrent reader never sees a
partial object. Note: keys ``a`` and ``a/b`` cannot coexist here (they can on S3).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dms.errors import ObjectNotFoundError, StorageError
from dms.storage.base import (
    TEMP_PREFIX,
    atomic_write,
    copy_stream,
    storage_error,
    validate_key,
    validate_prefix,
)


class LocalObjectStore:
    """Files under *root*; ``content_type`` is accepted and ignored."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error("creating the object store folder", str(self.root), exc) from exc

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _where(self, key: str) -> str:
        return f"local object {key!r} in {self.root}"

    # --- writes -------------------------------------------------------------
    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        dest = self._path(key)
        try:
            with open(path, "rb") as src:
                atomic_write(dest, lambda dst: copy_stream(src, dst))
        except OSError as exc:
            raise storage_error(f"storing {path}", self._where(key), exc) from exc

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        dest = self._path(key)

        def write(dst: BinaryIO) -> None:
            dst.write(data)

        try:
            atomic_write(dest, write)
        except OSError as exc:
            raise storage_error("storing bytes", self._where(key), exc) from exc

    def delete(self, key: str) -> None:
        # Empty parent folders are left behind on purpose: removing them would race
        # with a concurrent put creating a sibling in the same folder.
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise storage_error("deleting", self._where(key), exc) from exc

    # --- reads --------------------------------------------------------------
    def open_read(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFoundError(f"no such object: {self._where(key)}") from exc
        except OSError as exc:
            raise storage_error("opening", self._where(key), exc) from exc

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as fh:
            try:
                return fh.read()
            except OSError as exc:
                raise storage_error("reading", self._where(key), exc) from exc

    def download(self, key: str, dest: Path) -> None:
        with self.open_read(key) as src:
            try:
                atomic_write(Path(dest), lambda dst: copy_stream(src, dst))
            except OSError as exc:
                raise storage_error(f"downloading to {dest}", self._where(key), exc) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFoundError(f"no such object: {self._where(key)}")
        try:
            return path.stat().st_size
        except FileNotFoundError as exc:  # deleted between the two calls
            raise ObjectNotFoundError(f"no such object: {self._where(key)}") from exc
        except OSError as exc:
            raise storage_error("stat", self._where(key), exc) from exc

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        # Walk only the deepest folder that can contain matches, then filter by string prefix.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start, onerror=self._walk_error):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for fname in sorted(filenames):
                if fname.startswith(TEMP_PREFIX):
                    continue
                key = fname if rel_dir == "." else f"{rel_dir}/{fname}"
                if key.startswith(prefix):
                    yield key

    def _walk_error(self, exc: OSError) -> None:
        # A folder vanishing mid-walk is fine; anything else would make the listing incomplete.
        if not isinstance(exc, FileNotFoundError):
            raise StorageError(f"listing {self.root} failed: {exc}") from exc

    def url_for(self, key: str) -> str | None:
        validate_key(key)
        return None
