"""`dms backup DIR` / `dms restore DIR`: the database, the object store and configuration.

Layout of a backup directory (one per deployment; running the backup again updates it):

    manifest.json      what was taken, when, from which schema revision; written last
    database.sqlite    SQLite online-backup copy      (embedded default), or
    database.pgdump    ``pg_dump -Fc``                (PostgreSQL)
    objects.tsv        key, size, SHA-256 of every object of this snapshot
    objects/<key>      the objects, incremental: an object already here is not copied again
    config/*.yaml      the deployment's checklist, document types, holidays, logging
    data/              generated files of the data dir (the ingest ledger)
    settings.json      the effective DMS_* settings, secrets left out unless asked for

Consistency: the database is snapshotted first, then the objects are copied. Every object
a committed row refers to was written before its row committed (ingest, OCR), and
originals are never deleted, so the snapshot's rows find their objects; an object deleted
in between (a deleted document's page images) is simply absent, which `dms fsck` reports
and OCR rebuilds.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import SecretStr
from sqlalchemy import inspect, make_url, text

from dms.errors import ConfigError, ConflictError, InvalidInputError, MissingDependencyError
from dms.errors import StorageError
from dms.services.container import Services
from dms.storage.base import CHUNK_SIZE, TEMP_PREFIX, atomic_write

FORMAT = 1
MANIFEST = "manifest.json"
OBJECTS_LIST = "objects.tsv"
# Keys named by their content's SHA-256: present in the backup means identical.
CONTENT_ADDRESSED = ("originals/", "quarantine/")
SECRET_SETTINGS = ("secret_key", "s3_access_key", "s3_secret_key", "smtp_password",
                   "station_token", "database_url", "es_url", "broker_url")
LEDGER = "ingest-ledger.sqlite"
WORKERS = 8  # objects copied at once

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]  # (phase, done, total or 0 when unknown)


@dataclass
class BackupResult:
    objects: int = 0
    objects_copied: int = 0
    bytes_total: int = 0
    bytes_copied: int = 0
    database_bytes: int = 0
    revision: str = ""


@dataclass
class RestoreResult:
    objects: int = 0
    bytes_total: int = 0
    revision: str = ""
    config_kept: tuple[str, ...] = ()


def _noop(phase: str, done: int, total: int) -> None:
    pass


# ------------------------------------------------------------------ database


def _db_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"backup supports SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_path(url: str) -> Path:
    db = make_url(url).database
    if not db or db == ":memory:":
        raise ConfigError("an in-memory SQLite database cannot be backed up or restored")
    return Path(db)


def pg_program(name: str) -> str:
    """The newest installed client (pg_dump must be at least the server's version)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    exe = found[-1] if found else shutil.which(name)
    if not exe:
        raise MissingDependencyError(f"PostgreSQL program {name!r} not found",
                                     hint="sudo apt-get install postgresql-client")
    return exe


def _pg_env(url: str) -> dict[str, str]:
    """Connection details as libpq variables: the password stays out of the process list."""
    u = make_url(url)
    env = dict(os.environ)
    for var, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[var] = str(value)
    return env


def _run_pg(args: list[str], url: str) -> None:
    proc = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True)
    if proc.returncode != 0:
        raise StorageError(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-800:]}")


def _sqlite_copy(src: Path, dest: Path) -> None:
    """SQLite's online backup API: a consistent copy while others keep writing."""
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(tmp) as d:
        s.backup(d)
    s.close()
    d.close()
    os.replace(tmp, dest)


def _revision(services: Services) -> str:
    with services.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return ""
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")


def _dump_database(services: Services, out_dir: Path) -> Path:
    url = services.settings.database_url
    if _db_kind(url) == "sqlite":
        dest = out_dir / "database.sqlite.new"
        _sqlite_copy(_sqlite_path(url), dest)
        return dest
    dest = out_dir / "database.pgdump.new"
    _run_pg([pg_program("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(dest)],
            url)
    return dest


# ------------------------------------------------------------------ objects


def _read_list(path: Path) -> dict[str, tuple[int, str]]:
    if not path.exists():
        return {}
    out: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            key, size, digest = line.rstrip("\n").split("\t")
            out[key] = (int(size), digest)
    return out


def _copy_hashing(src: IO[bytes], dest: Path) -> tuple[int, str]:
    """Copy to a temp name, then rename: a file under its key is always complete. No fsync
    per object (a hundred thousand small objects would wait on the disk for each): the
    whole backup is synced once before its manifest is written."""
    h, n = hashlib.sha256(), 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(TEMP_PREFIX + dest.name)
    try:
        with tmp.open("wb") as fh:
            while chunk := src.read(CHUNK_SIZE):
                h.update(chunk)
                fh.write(chunk)
                n += len(chunk)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n, h.hexdigest()


def parallel(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` in a thread pool, results as they complete, at most a bounded
    number in flight (a listing of millions of keys is never held as futures). Object
    copies wait on I/O (an fsync, an S3 round trip), so threads overlap the waits."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        pending: set[Future[R]] = set()
        for item in items:
            pending.add(pool.submit(fn, item))
            if len(pending) >= workers * 16:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        yield from (f.result() for f in as_completed(pending))


def _backup_objects(services: Services, root: Path, result: BackupResult,
                    progress: Progress, workers: int) -> Iterator[tuple[str, int, str]]:
    store = services.store
    previous = _read_list(root / OBJECTS_LIST)
    objects_dir = root / "objects"

    def one(key: str) -> tuple[str, int, str, bool]:
        local = objects_dir / key
        known = previous.get(key)
        if (known is not None and local.is_file() and local.stat().st_size == known[0]
                and (key.startswith(CONTENT_ADDRESSED) or store.size(key) == known[0])):
            return key, known[0], known[1], False
        with store.open_read(key) as fh:
            size, digest = _copy_hashing(fh, local)
        return key, size, digest, True

    for key, size, digest, copied in parallel(one, store.iter_keys(), workers):
        if copied:
            result.objects_copied += 1
            result.bytes_copied += size
        result.objects += 1
        result.bytes_total += size
        if result.objects % 200 == 0:
            progress("objects", result.objects, 0)
        yield key, size, digest


def backup(services: Services, dest: Path, *, include_secrets: bool = False,
           progress: Progress = _noop, workers: int = WORKERS) -> BackupResult:
    """Take (or bring up to date) the backup in ``dest``; see the module doc."""
    dest.mkdir(parents=True, exist_ok=True)
    result = BackupResult(revision=_revision(services))
    progress("database", 0, 1)
    dump = _dump_database(services, dest)  # first: see "Consistency" above
    result.database_bytes = dump.stat().st_size
    progress("database", 1, 1)
    listing = dest / (OBJECTS_LIST + ".new")
    with listing.open("w", encoding="utf-8") as fh:
        for key, size, digest in _backup_objects(services, dest, result, progress,
                                                       workers):
            fh.write(f"{key}\t{size}\t{digest}\n")
    progress("objects", result.objects, result.objects)
    _backup_config(services, dest, include_secrets)
    final_dump = dest / dump.name.removesuffix(".new")
    for stale in ("database.sqlite", "database.pgdump"):
        if stale != final_dump.name:
            (dest / stale).unlink(missing_ok=True)
    os.replace(dump, final_dump)
    os.replace(listing, dest / OBJECTS_LIST)
    os.sync()  # everything above is on disk before the manifest says the backup is complete
    manifest = {
        "format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
        "database": {"kind": _db_kind(services.settings.database_url),
                     "file": final_dump.name, "bytes": result.database_bytes,
                     "revision": result.revision},
        "objects": {"count": result.objects, "bytes": result.bytes_total,
                    "list": OBJECTS_LIST, "copied": result.objects_copied},
        "secrets_included": include_secrets,
    }
    _write_json(dest / MANIFEST, manifest)
    return result


def _write_json(path: Path, data: dict[str, Any]) -> None:
    raw = json.dumps(data, ensure_ascii=False, indent=2).encode()
    atomic_write(path, lambda fh: None if fh.write(raw) else None)


def _backup_config(services: Services, dest: Path, include_secrets: bool) -> None:
    s = services.settings
    cfg = dest / "config"
    cfg.mkdir(exist_ok=True)
    for f in sorted(Path(s.config_dir).glob("*.yaml")):
        shutil.copy2(f, cfg / f.name)
    data = dest / "data"
    data.mkdir(exist_ok=True)
    ledger = s.data_dir / LEDGER
    if ledger.exists():
        _sqlite_copy(ledger, data / LEDGER)
    settings: dict[str, Any] = json.loads(s.model_dump_json())
    for name in SECRET_SETTINGS:
        value = getattr(s, name, None)
        if isinstance(value, SecretStr):  # dumped as "**********"
            value = value.get_secret_value()
        if value:
            settings[name] = (value if include_secrets
                              else "(not backed up: set it again on restore)")
    _write_json(dest / "settings.json", settings)


# ------------------------------------------------------------------ restore


def read_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    if not path.is_file():
        raise InvalidInputError(f"{src} is not a dms backup: no {MANIFEST}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise InvalidInputError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def _require_empty(services: Services) -> None:
    """Restore never overwrites: a database with tables or a store with objects is refused."""
    url = services.settings.database_url
    if _db_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        tables: list[str] = []
    else:
        with services.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    if tables:
        raise ConflictError(f"the database is not empty ({len(tables)} tables): restore only "
                            "into a new system", hint="point DMS_DATABASE_URL at a new, empty "
                            "database; do not run `dms db upgrade` before restoring")
    first = next(iter(services.store.iter_keys()), None)
    if first is not None:
        raise ConflictError(f"the object store is not empty (it holds {first!r}): restore "
                            "only into a new system", hint="use an empty bucket or data dir")


def _restore_database(services: Services, src: Path, manifest: dict[str, Any]) -> None:
    url = services.settings.database_url
    kind, file = manifest["database"]["kind"], src / manifest["database"]["file"]
    if kind != _db_kind(url):
        raise ConfigError(f"the backup holds a {kind} database; this system uses "
                          f"{_db_kind(url)}", hint="set DMS_DATABASE_URL to a database of "
                          "the same kind")
    if kind == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        services.engine.dispose()  # the empty-check may have created the file
        target.unlink(missing_ok=True)
        _sqlite_copy(file, target)
        return
    _run_pg([pg_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", "-d", make_url(url).database or "", str(file)], url)


def _verify_file(path: Path, size: int, digest: str) -> None:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            h.update(chunk)
    if path.stat().st_size != size or h.hexdigest() != digest:
        raise StorageError(f"backup object {path} does not match its manifest entry "
                           "(size or SHA-256): the backup is damaged")


def restore(services: Services, src: Path, *, progress: Progress = _noop,
            workers: int = WORKERS) -> RestoreResult:
    """Restore ``src`` into this (empty) system. Afterwards: `dms db upgrade` (a backup of
    an older release), `dms reindex`, `dms fsck`."""
    manifest = read_manifest(src)
    _require_empty(services)
    listing = _read_list(src / manifest["objects"]["list"])
    result = RestoreResult(revision=manifest["database"].get("revision", ""))
    total = len(listing)

    def one(entry: tuple[str, tuple[int, str]]) -> int:
        key, (size, digest) = entry
        path = src / "objects" / key
        if not path.is_file():
            raise StorageError(f"backup object {path} is missing: the backup is incomplete")
        _verify_file(path, size, digest)  # a damaged backup must not pass as an archive
        services.store.put_file(key, path)
        return size

    for size in parallel(one, listing.items(), workers):
        result.objects += 1
        result.bytes_total += size
        if result.objects % 200 == 0:
            progress("objects", result.objects, total)
    progress("objects", total, total)
    progress("database", 0, 1)
    _restore_database(services, src, manifest)
    progress("database", 1, 1)
    result.config_kept = _restore_config(services, src)
    return result


def _restore_config(services: Services, src: Path) -> tuple[str, ...]:
    """Config files missing here are restored; differing ones are kept and named (the
    deployment's own files win: they may be newer than the backup)."""
    s = services.settings
    kept: list[str] = []
    Path(s.config_dir).mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "config").glob("*.yaml")):
        target = Path(s.config_dir) / f.name
        if not target.exists():
            shutil.copy2(f, target)
        elif target.read_bytes() != f.read_bytes():
            kept.append(str(target))
    ledger = src / "data" / LEDGER
    if ledger.exists() and not (s.data_dir / LEDGER).exists():
        s.data_dir.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(ledger, s.data_dir / LEDGER)
    return tuple(kept)

