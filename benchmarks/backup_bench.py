"""`dms backup` / `dms restore`: time and size for the sample archive and for a generated
archive of 100,000 documents (issue 17), on the embedded default (SQLite, local folder).

Generated archive (``--documents N``, default 100,000): one customer per five documents,
one business per customer, one page per document; per document its original (2-6 KB of
random bytes, stored under its SHA-256), its page image and its searchable PDF (1-2 KB
each): three objects, as OCR leaves them. Rows are bulk-inserted, objects written straight
into the store's folder (what LocalObjectStore.put_bytes does, without an fsync each).

Measured, in this order, on the same data:
  full          the first `backup` into an empty directory
  unchanged     `backup` again, nothing new (incremental: nothing copied)
  +1%           `backup` again after 1% more documents were added
  restore       `restore` into an empty system (the store's own fsync'd writes)
Baseline in the same run: copying the data dir with ``cp -a`` (database file + objects
folder), i.e. what moving these bytes costs on this machine now. Ratios are against it;
incremental/full is printed too. The load average is printed: the machine is shared.

The sample archive: ``dms sample-data`` (6 customers) ingested (originals and rows, OCR not
run: no worker), then the same four measurements.

Usage:  .venv/bin/python benchmarks/backup_bench.py [--documents 100000] [--dir /tmp/bkbench]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from dms.db.migrate import upgrade
from dms.db.models import Business, Customer, Document, Page
from dms.services.backup import backup, restore
from dms.services.container import Services, build_services
from dms.settings import load_settings
from dms.storage import content_key


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def system(root: Path) -> Services:
    settings = load_settings(data_dir=root, _env_file=None)
    services = build_services(settings)
    upgrade(settings.database_url)
    return services


def generate(services: Services, start: int, count: int, rng: random.Random) -> None:
    objects = services.settings.object_store_path
    assert objects is not None
    now = datetime.now(UTC)
    customers, businesses, documents, pages = [], [], [], []
    for i in range(start, start + count):
        c = i // 5 + 1
        if i % 5 == 0:
            customers.append({"id": c, "customer_no": f"33{c:010d}", "name": "客户",
                              "kind": "", "address": "", "created_at": now})
            businesses.append({"id": c, "business_no": f"YK{c:010d}", "customer_id": c,
                               "business_type": "LV_RES_NEW", "archive_state": "archived",
                               "agent_applied": False, "state_since": now, "created_at": now})
        data = rng.randbytes(rng.randint(2048, 6144))
        sha = hashlib.sha256(data).hexdigest()
        keys = {content_key("originals", sha, ".pdf"): data,
                f"pages/{sha[:2]}/{sha}/0001.png": rng.randbytes(rng.randint(1024, 2048)),
                f"searchable/{sha[:2]}/{sha}.pdf": rng.randbytes(rng.randint(1024, 2048))}
        for key, blob in keys.items():
            path = objects.joinpath(*key.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
        doc_id = i + 1
        documents.append({"id": doc_id, "sha256": sha, "customer_id": c, "business_id": c,
                          "doc_type": "GYDHT", "type_confirmed": True, "title": "",
                          "source_name": f"{i}.pdf", "mime": "application/pdf",
                          "size_bytes": len(data), "original_key": list(keys)[0],
                          "searchable_pdf_key": list(keys)[2], "page_count": 1,
                          "ocr_status": "done", "ocr_error": "", "facts": {},
                          "created_at": now, "updated_at": now})
        pages.append({"document_id": doc_id, "page_no": 1, "image_key": list(keys)[1],
                      "text": "供用电合同", "existing_text": "", "ocr_status": "done",
                      "rotation": 0, "skew": 0.0, "needs_review": False, "attempts": 1,
                      "engine": "ppocr", "ocr_error": "", "worker": ""})
    with services.engine.begin() as conn:
        for model, rows in ((Customer, customers), (Business, businesses),
                            (Document, documents), (Page, pages)):
            if rows:
                conn.execute(insert(model), rows)


def ingest_sample(services: Services, root: Path) -> int:
    from dms.sample_data import generate_corpus
    from ingest import ingest_folder

    manifest = generate_corpus(root / "scans", customers=6, seed=1)
    ingest_folder(services, root / "scans", dispatcher=_NoOcr())
    return len(manifest.files)


def measure(name: str, services: Services, work: Path, grow: object) -> None:
    """Print each figure as soon as it is measured (a 100,000-document run takes long)."""
    data = services.settings.data_dir
    print(f"\n== {name}; load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'':28}{'seconds':>10}{'÷ cp -a':>10}{'objects':>10}", flush=True)
    (work / "copy").mkdir()
    os.sync()
    t0 = time.perf_counter()
    subprocess.run(["cp", "-a", str(data / "dms.sqlite"), str(data / "objects"),
                    str(work / "copy")], check=True)
    os.sync()
    t_copy = time.perf_counter() - t0
    # The copy is left in place: deleting many small files is slow on some disks (ext4
    # with online discard) and would only delay the measurements that follow.

    def row(label: str, seconds: float, objects: int | str = "") -> None:
        print(f"{label:28}{seconds:10.2f}{seconds / t_copy:10.2f}{objects:>10}", flush=True)

    row("baseline: cp -a data dir", t_copy)
    bk = work / "backup"
    t0 = time.perf_counter()
    full = backup(services, bk)
    t_full = time.perf_counter() - t0
    row("backup, full (copied)", t_full, full.objects_copied)
    print(f"  {full.objects} objects, {full.bytes_total / 1e6:.1f} MB; database "
          f"{full.database_bytes / 1e6:.1f} MB; backup dir {du(bk) / 1e6:.1f} MB", flush=True)
    t0 = time.perf_counter()
    same = backup(services, bk)
    t_same = time.perf_counter() - t0
    row("backup, unchanged (copied)", t_same, same.objects_copied)
    grow()  # type: ignore[operator]
    t0 = time.perf_counter()
    more = backup(services, bk)
    t_more = time.perf_counter() - t0
    row("backup, +1% (copied)", t_more, more.objects_copied)
    print(f"  incremental ÷ full: unchanged {t_same / t_full:.2f}, +1% {t_more / t_full:.2f}",
          flush=True)
    target = build_services(load_settings(data_dir=work / "restored", _env_file=None))
    t0 = time.perf_counter()
    restore(target, bk)
    row("restore, empty system", time.perf_counter() - t0, more.objects)
    target.close()
    print(f"  load {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bkbench"))
    ap.add_argument("--skip-sample", action="store_true")
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)

    if not args.skip_sample:
        work = args.dir / "sample"
        work.mkdir()
        services = system(work / "var")
        n = ingest_sample(services, work)
        extra = work / "extra"

        def grow_sample() -> None:  # one more scan, as a station would add it
            from dms.sample_data import generate_corpus
            from ingest import ingest_folder

            generate_corpus(extra, customers=1, seed=99)
            ingest_folder(services, extra, dispatcher=_NoOcr())

        measure(f"sample archive ({n} scans, not OCR'd)", services, work, grow_sample)
        services.close()

    work = args.dir / "generated"
    work.mkdir()
    services = system(work / "var")
    rng = random.Random(17)
    t0 = time.perf_counter()
    generate(services, 0, args.documents, rng)
    print(f"\ngenerated {args.documents} documents in {time.perf_counter() - t0:.1f} s")
    measure(f"generated archive ({args.documents} documents)", services, work,
            lambda: generate(services, args.documents, max(1, args.documents // 100), rng))
    services.close()


class _NoOcr:
    """The benchmark measures bytes moved, not OCR: nothing is queued."""

    def ocr_document(self, document_id: int) -> None: ...
    def ocr_page(self, page_id: int) -> None: ...
    def finalize_document(self, document_id: int) -> None: ...


if __name__ == "__main__":
    main()
