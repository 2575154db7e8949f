"""The scanner-station folder convention, the optional manifest, and the stat ledger.

``ROOT/<customer_no>[_name]/[<business_no>[_type]/]<file>``; ``ROOT/manifest.csv``
may name customer/business/type per file instead. Everything that does not fit
is *rejected with a reason* (the engine quarantines it) rather than skipped.
"""
from __future__ import annotations

import csv
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dms.domain.checklist import Checklist
from dms.errors import InvalidInputError

CUSTOMER_RE = re.compile(r"[0-9]{6,20}")
BUSINESS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,31}")
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("path", "customer_no", "business_no", "doc_type", "customer_name",
                    "business_type")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class IngestRootError(InvalidInputError):
    """ROOT is missing or not a folder: a usage error, so the CLI exits with 2."""

    code = "ingest_root_invalid"
    exit_code = 2


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a file belongs. ``business_type``/``doc_type`` are checklist codes or ''."""

    customer_no: str
    business_no: str = ""
    customer_name: str = ""
    business_type: str = ""
    doc_type: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One file to ingest: a display path relative to the station folder and a local file."""

    rel_path: str
    path: Path
    size: int
    mtime_ns: int = 0
    ctime_ns: int = 0
    name_problem: str = ""  # non-empty: quarantine because of the name itself


# --- names ---------------------------------------------------------------------------------

def display_name(raw: str) -> tuple[str, str]:
    """Return (safe display text, problem). Undecodable bytes and control chars are escaped.

    We quarantine such names instead of "repairing" them: a GBK-encoded folder name
    could hide the customer number the convention needs, and a human should look.
    """
    try:
        raw.encode("utf-8")
        text, problem = raw, ""
    except UnicodeEncodeError:  # surrogate-escaped bytes from os.listdir
        text = os.fsencode(raw).decode("utf-8", "backslashreplace")
        problem = "file or folder name is not valid UTF-8"
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
        problem = problem or "file or folder name contains control characters"
    return text, problem


def normalise_rel_path(raw: str) -> tuple[str, str]:
    """Normalise a station-supplied relative path; return (path, problem)."""
    text, problem = display_name(raw)
    text = unicodedata.normalize("NFC", text.replace("\\", "/"))
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return text.lstrip("/"), problem or "absolute path not allowed"
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "/".join(parts), problem or "path has a '..' component"
    if not parts:
        return text, problem or "empty path"
    if any(p.startswith(".") for p in parts):
        return "/".join(parts), problem or "hidden file or folder"
    return "/".join(parts), problem


def split_prefix(name: str) -> tuple[str, str]:
    head, _, rest = name.partition("_")
    return head, rest.strip()


# --- checklist matching --------------------------------------------------------------------

def match_business_type(text: str, checklist: Checklist | None) -> str:
    """A checklist business-type code for a code or name inside *text*, else ''."""
    text = text.strip()
    if not text or checklist is None:
        return ""
    for code in checklist.business_types:
        if text.upper() == code.upper() or text.upper().startswith(code.upper() + "_"):
            return code
    by_name = sorted(checklist.business_types.values(), key=lambda bt: -len(bt.name))
    for bt in by_name:  # longest first: 低压非居民新装 must not match 低压居民新装
        if bt.name and bt.name in text:
            return bt.code
    return ""


def match_doc_type(text: str, checklist: Checklist | None) -> str:
    text = text.strip()
    if not text or checklist is None:
        return ""
    for code, dt in checklist.document_types.items():
        if text.upper() == code.upper() or text == dt.name:
            return code
    return ""


# --- manifest ------------------------------------------------------------------------------

def load_manifest(root: Path) -> dict[str, dict[str, str]]:
    """``ROOT/manifest.csv`` as {normalised path: row}; empty when there is none."""
    path = root / MANIFEST_NAME
    if not path.is_file():
        return {}
    rows: dict[str, dict[str, str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:  # utf-8-sig eats a BOM
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "path" not in fields:
            raise InvalidInputError(f"{path} has no 'path' column",
                                    hint=f"columns: {', '.join(MANIFEST_COLUMNS)}")
        for raw in reader:
            row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            rel, _problem = normalise_rel_path(row.get("path", ""))
            if rel:
                rows[rel] = row
    return rows


# --- placement -----------------------------------------------------------------------------

def place(rel_path: str, manifest: dict[str, dict[str, str]],
          checklist: Checklist | None) -> Placement | str:
    """The Placement of a file, or a reason string why it does not fit."""
    parts = rel_path.split("/")
    row = manifest.get(rel_path)
    folder = _place_by_folders(parts, checklist)
    if row is None:
        return folder
    base = folder if isinstance(folder, Placement) else Placement("")
    customer_no = row.get("customer_no") or base.customer_no
    business_no = row.get("business_no") or base.business_no
    if not CUSTOMER_RE.fullmatch(customer_no):
        return f"manifest: invalid or missing customer_no {customer_no!r}"
    if business_no and not BUSINESS_RE.fullmatch(business_no):
        return f"manifest: invalid business_no {business_no!r}"
    bt = row.get("business_type", "")
    return Placement(
        customer_no=customer_no,
        business_no=business_no,
        customer_name=row.get("customer_name") or base.customer_name,
        business_type=match_business_type(bt, checklist) if bt else base.business_type,
        doc_type=match_doc_type(row.get("doc_type", ""), checklist),
    )


def _place_by_folders(parts: list[str], checklist: Checklist | None) -> Placement | str:
    if len(parts) == 1:
        return "file directly in ROOT is not listed in manifest.csv"
    if len(parts) > 3:
        return "nested too deep: expected ROOT/<customer_no>[_name]/[<business_no>[_type]/]<file>"
    cust_no, cust_name = split_prefix(parts[0])
    if not CUSTOMER_RE.fullmatch(cust_no):
        return f"folder {parts[0]!r} does not start with a customer number (6-20 digits)"
    if len(parts) == 2:
        return Placement(customer_no=cust_no, customer_name=cust_name)
    biz_no, biz_rest = split_prefix(parts[1])
    if not BUSINESS_RE.fullmatch(biz_no):
        return f"folder {parts[1]!r} does not start with a business number"
    return Placement(customer_no=cust_no, business_no=biz_no, customer_name=cust_name,
                     business_type=match_business_type(biz_rest, checklist))


# --- walking -------------------------------------------------------------------------------

def walk(root: Path) -> Iterator[Item]:
    """Every non-hidden regular file under *root*, sorted, lazily (constant memory per dir)."""
    root_s = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(root_s):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root_s)
        for name in sorted(filenames):
            if name.startswith(".") or (rel_dir == "." and name == MANIFEST_NAME):
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full, follow_symlinks=False)
            except OSError:
                continue  # vanished between listing and stat
            if not _is_regular(st.st_mode):
                continue
            raw_rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            rel, problem = display_name(raw_rel)
            yield Item(rel_path=unicodedata.normalize("NFC", rel), path=Path(full),
                       size=st.st_size, mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns,
                       name_problem=problem)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def check_root(root: Path) -> Path:
    if not root.exists():
        raise IngestRootError(f"ingest folder {root} does not exist")
    if not root.is_dir():
        raise IngestRootError(f"ingest folder {root} is not a directory")
    return root.resolve()


# --- the stat ledger -----------------------------------------------------------------------

class Ledger:
    """Sidecar SQLite: (root, rel_path) -> (size, mtime_ns, ctime_ns, sha256, outcome…).

    Only an accelerator for re-runs: an entry is used when size, mtime and ctime
    all still match, and even then the engine re-checks the database for the
    document. A changed file simply misses and is hashed again.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a lost entry only costs a re-hash
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS ledger (root TEXT, rel_path TEXT, size INTEGER,"
            " mtime_ns INTEGER, ctime_ns INTEGER, sha256 TEXT, outcome TEXT, reason TEXT,"
            " quarantine_key TEXT, PRIMARY KEY (root, rel_path))")

    def lookup(self, root: str, items: Iterable[Item]) -> dict[str, tuple[str, str, str, str]]:
        """{rel_path: (sha256, outcome, reason, quarantine_key)} for unchanged items."""
        wanted = {i.rel_path: i for i in items if not i.name_problem}
        found: dict[str, tuple[str, str, str, str]] = {}
        names = list(wanted)
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT rel_path, size, mtime_ns, ctime_ns, sha256, outcome, reason,"
                f" quarantine_key FROM ledger WHERE root = ? AND rel_path IN ({marks})",
                [root, *chunk])
            for rel, size, mtime, ctime, sha, outcome, reason, qkey in rows:
                it = wanted[rel]
                if (size, mtime, ctime) == (it.size, it.mtime_ns, it.ctime_ns):
                    found[rel] = (sha, outcome, reason or "", qkey or "")
        return found

    def remember(self, root: str, entries: list[tuple[Item, str, str, str, str]]) -> None:
        """Entries are (item, sha256, outcome, reason, quarantine_key), all committed."""
        if not entries:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(root, it.rel_path, it.size, it.mtime_ns, it.ctime_ns, sha, outcome, reason, qkey)
             for it, sha, outcome, reason, qkey in entries])
        self._db.commit()

    def close(self) -> None:
        self._db.close()
