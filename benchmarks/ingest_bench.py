"""Ingest throughput vs. a plain parallel boto3 upload, re-run cost, and peak RSS.

Against a real S3 server (SeaweedFS ``weed mini``) on loopback:

  (a) baseline: ThreadPoolExecutor + boto3 ``upload_file`` of the same files
  (b) ``ingest_folder`` into a fresh SQLite DB + fresh bucket   (goal: >= 0.8 x baseline)
  (c) re-run of the same folder                                  (goal: < 0.05 x first run)
  (d) peak RSS of the ingest process for a small and a full tree (goal: flat)

Usage:  .venv/bin/python benchmarks/ingest_bench.py [--files 2000] [--mean-kb 300]
Sample files are cached in --cache-dir, so a second invocation starts at once.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# --- sample data ------------------------------------------------------------------------------

def _noise_jpeg(rnd: random.Random, target: int) -> tuple[bytes, int, int]:
    """A real JPEG of random pixels; noise costs ~1.2 bytes/pixel at quality 75."""
    from PIL import Image

    pixels = max(64 * 64, int(target / 1.2))
    w = int((pixels * 0.7) ** 0.5)
    h = max(64, pixels // w)
    im = Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=75)
    return buf.getvalue(), w, h


def _noise_png(rnd: random.Random, target: int) -> bytes:
    from PIL import Image

    w = 512
    h = max(16, target // (w * 3))
    im = Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)  # random pixels do not compress anyway
    return buf.getvalue()


def _scan_pdf(rnd: random.Random, target: int) -> bytes:
    """An image-only PDF: one page showing a JPEG, like a scanner's output."""
    import pikepdf

    jpeg, w, h = _noise_jpeg(rnd, target)
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    img = pikepdf.Stream(pdf, jpeg)
    img.Type, img.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    img.Width, img.Height, img.BitsPerComponent = w, h, 8
    img.ColorSpace, img.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=img))
    page.Contents = pikepdf.Stream(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def generate(root: Path, files: int, mean_kb: int, seed: int = 42) -> None:
    marker = root / ".complete"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rnd = random.Random(seed)
    for i in range(files):
        # Sizes 100 KB..2 MB, skewed small, mean close to mean_kb.
        kb = min(2048, max(100, int(rnd.expovariate(1 / max(1, mean_kb - 100)) + 100)))
        kind = i % 3
        data = (_noise_jpeg(rnd, kb * 1024)[0] if kind == 0 else
                _noise_png(rnd, kb * 1024) if kind == 1 else _scan_pdf(rnd, kb * 1024))
        cust = 3301000000 + i // 10
        path = root / f"{cust}_客户{i // 10}" / f"B{cust}-{i // 5 % 2}" / \
            f"scan {i:05d}{('.jpg', '.png', '.pdf')[kind]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    marker.write_text("ok")


def subset(full: Path, dest: Path, n: int) -> None:
    """The first *n* files of *full*, hard-linked (same bytes, no extra disk)."""
    if (dest / ".complete").exists():
        return
    shutil.rmtree(dest, ignore_errors=True)
    for src in sorted(p for p in full.rglob("*") if p.is_file() and not p.name.startswith("."))[:n]:
        target = dest / src.relative_to(full)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, target)
    (dest / ".complete").write_text("ok")


def tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


# --- (a) baseline -----------------------------------------------------------------------------

def baseline(files: list[Path], s3: dict[str, str], workers: int) -> float:
    from dms.storage.s3 import S3ObjectStore

    store = S3ObjectStore(endpoint_url=s3["endpoint"], bucket=f"base-{uuid.uuid4().hex[:10]}",
                          access_key=s3["access_key"], secret_key=s3["secret_key"])
    store.ensure_bucket()
    client, cfg = store._client, store._transfer  # the same client settings as the real store
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda p: client.upload_file(str(p), store.bucket, f"b/{p.name}",
                                                   Config=cfg), files))
    return time.perf_counter() - t0


# --- (b)-(d) ingest, in a child process so its RSS is its own -----------------------------------

class _CountingDispatcher:
    def __init__(self) -> None:
        self.n = 0

    def ocr_document(self, document_id: int) -> None:
        self.n += 1

    def ocr_page(self, page_id: int) -> None:
        pass

    def finalize_document(self, document_id: int) -> None:
        pass


def child(args: argparse.Namespace) -> None:
    from dms.db.migrate import upgrade
    from dms.services.container import build_services
    from dms.settings import DEFAULT_CONFIG_DIR, load_settings
    from ingest import ingest_folder

    s3 = json.loads(args.child_s3)
    settings = load_settings(data_dir=Path(args.child_data), config_dir=DEFAULT_CONFIG_DIR,
                             object_store="s3", s3_endpoint_url=s3["endpoint"],
                             s3_access_key=s3["access_key"], s3_secret_key=s3["secret_key"],
                             s3_bucket=f"ing-{uuid.uuid4().hex[:10]}", _env_file=None)
    services = build_services(settings)
    upgrade(settings.database_url)
    services.store.ensure_bucket()  # type: ignore[attr-defined]
    disp = _CountingDispatcher()
    t0 = time.perf_counter()
    first = ingest_folder(services, Path(args.child_root), dispatcher=disp, workers=args.workers)
    t1 = time.perf_counter()
    rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    again = ingest_folder(services, Path(args.child_root), dispatcher=disp, workers=args.workers)
    t2 = time.perf_counter()
    print(json.dumps({"first_s": t1 - t0, "rerun_s": t2 - t1, "rss_kb": rss_first,
                      "rss_kb_after_rerun": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "first": first.counts, "rerun": again.counts, "dispatched": disp.n}))
    services.close()


def run_child(root: Path, work: Path, s3: dict[str, str], workers: int) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="data-", dir=work))
    out = subprocess.run(
        [sys.executable, __file__, "--child-root", str(root), "--child-data", str(data),
         "--child-s3", json.dumps(s3), "--workers", str(workers)],
        check=True, capture_output=True, text=True, cwd=REPO)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def warm(files: list[Path]) -> int:
    """Read every file once so the baseline and ingest both start from a warm page cache."""
    total = 0
    for p in files:
        total += len(p.read_bytes())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--small-files", type=int, default=200, help="tree size for the RSS check")
    ap.add_argument("--mean-kb", type=int, default=300)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--cache-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "dms-ingest-bench")
    ap.add_argument("--child-root")
    ap.add_argument("--child-data")
    ap.add_argument("--child-s3")
    args = ap.parse_args()
    if args.child_root:
        child(args)
        return

    from dms.testing.seaweed import SeaweedS3

    cache = args.cache_dir / f"files-{args.files}-{args.mean_kb}kb"
    t = time.perf_counter()
    generate(cache, args.files, args.mean_kb)
    small = args.cache_dir / f"files-{args.files}-{args.mean_kb}kb-first{args.small_files}"
    subset(cache, small, args.small_files)
    files = tree_files(cache)
    total = warm(files)
    print(f"sample: {len(files)} files, {total / 1e6:.1f} MB (ready in "
          f"{time.perf_counter() - t:.1f}s, cached in {args.cache_dir})", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="dms-ingest-bench-"))
    try:
        with SeaweedS3(work / "seaweed") as server:
            s3 = {"endpoint": server.endpoint_url, "access_key": server.access_key,
                  "secret_key": server.secret_key}
            base_s = baseline(files, s3, args.workers)
            big = run_child(cache, work, s3, args.workers)
            small_res = run_child(small, work, s3, args.workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mb = total / 1e6
    ing_s = big["first_s"]
    rows = [
        ("(a) boto3 parallel upload", base_s, mb / base_s, len(files) / base_s),
        ("(b) ingest_folder, first run", ing_s, mb / ing_s, len(files) / ing_s),
        ("(c) ingest_folder, re-run", big["rerun_s"], mb / big["rerun_s"],
         len(files) / big["rerun_s"]),
    ]
    print(f"\n{len(files)} files, {mb:.1f} MB, {args.workers} workers, "
          f"SeaweedFS S3 on loopback, SQLite\n")
    print(f"{'run':32} {'seconds':>9} {'MB/s':>9} {'files/s':>9}")
    for name, secs, rate, fps in rows:
        print(f"{name:32} {secs:9.2f} {rate:9.1f} {fps:9.1f}")
    print(f"\nfirst-run counts: {big['first']}  re-run counts: {big['rerun']}")
    print(f"throughput ratio ingest/baseline: {base_s / ing_s:.2f}   (goal >= 0.80)")
    print(f"re-run time / first run:          {big['rerun_s'] / ing_s:.3f}  (goal < 0.05)")
    print(f"peak RSS, {args.small_files} files: {small_res['rss_kb'] / 1024:.0f} MB;  "
          f"{len(files)} files: {big['rss_kb'] / 1024:.0f} MB  "
          f"(ratio {big['rss_kb'] / small_res['rss_kb']:.2f}, goal flat)")


if __name__ == "__main__":
    main()
