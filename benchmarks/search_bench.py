"""Search benchmark: the embedded tantivy index at 100k and 1M pages vs. Whoosh at 100k.

For each corpus size (generated Chinese archive text, ``benchmarks/corpus_text.py``):

  * indexing throughput (pages/s) through ``TantivyIndex.index_pages`` — the same code
    path as ``dms reindex`` — with bulk-load writer settings (big heap, large batches);
  * index size on disk per page;
  * p50/p95 latency of ``index.search`` (parse, query, count, 20 hits with snippets)
    per query class: 2-character words, 4-character words, quoted phrases, planted
    identifiers, a filtered faceted query (business type + date range + allowed teams,
    with facet counts), and — for reference — a word with all facets as the search
    page asks for it;
  * every planted identifier (contract no., ID number, credit code, meter no., customer
    no.) searched: the right document must be at rank 1.

On the --whoosh-pages corpus the same queries run on Whoosh (``whoosh_baseline.py``)
in the same run, and the table shows Whoosh/tantivy ratios. Goals (issue 6): p95 <
50 ms at 1M pages for every class, >= 10x faster than Whoosh, all identifiers at rank 1.

Usage:  .venv/bin/python benchmarks/search_bench.py [--pages 100000 --pages 1000000]
        [--queries 200] [--whoosh-queries 30] [--dir /path/with/room] [--keep]
Needs ``pip install -e .[bench]`` (whoosh-reloaded) for the baseline.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus_text import (  # noqa: E402
    BUSINESS_DOCS, PHRASES, TEAMS, WORDS_2, WORDS_4, Corpus, Planted, generate,
)
from search.base import PageDoc, SearchQuery, SearchResult  # noqa: E402
from search.tantivy_index import TantivyIndex  # noqa: E402

CLASSES = ("2-char word", "4-char word", "phrase", "identifier", "filtered+faceted",
           "word+all facets")
GOAL_P95_MS = 50.0
GOAL_RATIO = 10.0


@dataclass
class Run:
    pages: int
    gen_s: float = 0.0
    index_s: float = 0.0
    index_cpu_s: float = 0.0  # user+sys of all threads: comparable on a busy machine
    bytes_on_disk: int = 0
    latency: dict[str, list[float]] = field(default_factory=dict)  # wall ms per query
    cpu: dict[str, list[float]] = field(default_factory=dict)  # CPU ms per query
    rank1_ok: int = 0
    rank1_total: int = 0
    rank1_failures: list[str] = field(default_factory=list)
    whoosh: Run | None = None
    reused: bool = False  # index built by an earlier --reuse run: its build figures


def make_queries(corpus: Corpus, n: int, seed: int) -> dict[str, list[SearchQuery]]:
    r = random.Random(seed)
    planted = r.sample(corpus.planted, min(n, len(corpus.planted)))

    def faceted() -> SearchQuery:
        start = dt.date(r.randint(2015, 2023), 1, 1)
        return SearchQuery(text=r.choice(WORDS_2), size=20, facets=True,
                           filters={"business_type": [r.choice(tuple(BUSINESS_DOCS))]},
                           date_from=start, date_to=start.replace(year=start.year + 2),
                           allowed_teams=r.sample(TEAMS, 3))

    return {
        "2-char word": [SearchQuery(r.choice(WORDS_2), size=20, facets=False) for _ in range(n)],
        "4-char word": [SearchQuery(r.choice(WORDS_4), size=20, facets=False) for _ in range(n)],
        "phrase": [SearchQuery(r.choice(PHRASES), size=20, facets=False) for _ in range(n)],
        "identifier": [SearchQuery(p.value, size=20, facets=False) for p in planted],
        "filtered+faceted": [faceted() for _ in range(n)],
        "word+all facets": [SearchQuery(r.choice(WORDS_2), size=20) for _ in range(n)],
    }


def time_queries(search: Callable[[SearchQuery], SearchResult],
                 queries: dict[str, list[SearchQuery]], limit: int | None,
                 ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per class: wall-clock ms and CPU ms (all threads of this process) per query.

    CPU time is what a query costs on an idle machine: the search runs on the calling
    thread, so on a shared, busy machine it is the figure that does not depend on
    what the neighbours are doing."""
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for cls, qs in queries.items():
        qs = qs[:limit] if limit else qs
        for q in qs[:5]:  # warm-up: first touches of the index files are not the measure
            search(q)
        wall[cls], cpu[cls] = [], []
        for q in qs:
            t0, c0 = time.perf_counter(), time.process_time()
            search(q)
            wall[cls].append((time.perf_counter() - t0) * 1000)
            cpu[cls].append((time.process_time() - c0) * 1000)
    return wall, cpu


def check_rank1(ix: TantivyIndex, planted: list[Planted], run: Run) -> None:
    log(f"[{run.pages:,}] checking {len(planted):,} planted identifiers at rank 1")
    for p in planted:
        res = ix.search(SearchQuery(p.value, size=1, facets=False))
        run.rank1_total += 1
        if res.hits and p.is_right(res.hits[0].document_id):
            run.rank1_ok += 1
        elif len(run.rank1_failures) < 10:
            top = res.hits[0].document_id if res.hits else None
            run.rank1_failures.append(f"{p.kind} {p.value}: top doc {top}, "
                                      f"expected {p.first_doc}..{p.last_doc}")


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


MARKER = "bench-complete.json"


def code_fingerprint(*files: str) -> str:
    """Hash of the code that decides what an index holds: a reused index must match it."""
    h = hashlib.sha256()
    for f in files:
        h.update((REPO / f).read_bytes())
    return h.hexdigest()[:16]


def reusable(path: Path, fingerprint: str, args: argparse.Namespace) -> dict[str, Any] | None:
    """The build figures of an index a previous ``--reuse`` run completed, if it is still
    of the same code; else the directory is cleared for a fresh build."""
    marker = path / MARKER
    if args.reuse and marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        if built.get("fingerprint") == fingerprint:
            return built
    shutil.rmtree(path, ignore_errors=True)
    return None


def bench_size(n: int, args: argparse.Namespace, root: Path) -> Run:
    run = Run(n)
    corpus = Corpus(n, seed=args.seed)
    t0 = time.perf_counter()
    pages: list[PageDoc] = list(generate(corpus))
    run.gen_s = time.perf_counter() - t0
    log(f"[{n:,}] generated {len(pages):,} pages, {len(corpus.planted):,} planted identifiers "
        f"in {run.gen_s:.0f}s")
    path = root / f"tantivy-{n}-seed{args.seed}"
    fingerprint = code_fingerprint("search/tantivy_schema.py", "search/analysis.py",
                                   "search/base.py", "benchmarks/corpus_text.py")
    built = reusable(path, fingerprint, args)
    ix = TantivyIndex(path, heap_size=args.heap_mb * 1_000_000,
                      writer_threads=args.writer_threads, batch_pages=args.batch)
    if built:
        run.index_s, run.index_cpu_s, run.reused = built["index_s"], built["cpu_s"], True
        log(f"[{n:,}] reusing the index built by an earlier run in {path}")
    else:
        t0, c0 = time.perf_counter(), cpu_seconds()
        ix.index_pages(pages)
        ix.refresh()
        run.index_s, run.index_cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
        (path / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "pages": n,
                                               "index_s": run.index_s,
                                               "cpu_s": run.index_cpu_s}))
    run.bytes_on_disk = dir_size(path)
    log(f"[{n:,}] indexed in {run.index_s:.0f}s = {n / run.index_s:,.0f} pages/s, "
        f"{run.bytes_on_disk / n:,.0f} bytes/page; {ix.count():,} pages in the index")
    queries = make_queries(corpus, args.queries, args.seed)
    run.latency, run.cpu = time_queries(ix.search, queries, None)
    planted = corpus.planted
    if args.rank_sample and len(planted) > args.rank_sample:
        planted = random.Random(args.seed).sample(planted, args.rank_sample)
    check_rank1(ix, planted, run)
    log(f"[{n:,}] rank 1: {run.rank1_ok:,}/{run.rank1_total:,}")
    if n == args.whoosh_pages:
        run.whoosh = bench_whoosh(pages, queries, args, root, ix)
    ix.close()
    del pages, ix
    gc.collect()
    if not args.keep:
        shutil.rmtree(path, ignore_errors=True)
    return run


def bench_whoosh(pages: list[PageDoc], queries: dict[str, list[SearchQuery]],
                 args: argparse.Namespace, root: Path, tix: TantivyIndex) -> Run:
    from benchmarks.whoosh_baseline import WhooshIndex

    run = Run(len(pages))
    path = root / f"whoosh-{len(pages)}-seed{args.seed}"
    fingerprint = code_fingerprint("benchmarks/whoosh_baseline.py", "search/analysis.py",
                                   "search/base.py", "benchmarks/corpus_text.py")
    built = reusable(path, fingerprint, args)
    wix = WhooshIndex(path, create=not built)
    if built:
        run.index_s, run.index_cpu_s, run.reused = built["index_s"], built["cpu_s"], True
        log(f"[whoosh {len(pages):,}] reusing the index built by an earlier run in {path}")
    else:
        t0, c0 = time.perf_counter(), cpu_seconds()
        wix.index_pages(pages)
        run.index_s, run.index_cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
        (path / MARKER).write_text(json.dumps({"fingerprint": fingerprint, "pages": len(pages),
                                               "index_s": run.index_s,
                                               "cpu_s": run.index_cpu_s}))
    run.bytes_on_disk = dir_size(path)
    log(f"[whoosh {len(pages):,}] indexed in {run.index_s:.0f}s = "
        f"{len(pages) / run.index_s:,.0f} pages/s")
    # Same work on both engines? Totals of the first queries of each class must agree.
    agree = total = 0
    for qs in queries.values():
        for q in qs[:3]:
            total += 1
            agree += wix.search(q).total == tix.search(q).total
    log(f"[whoosh] result totals equal to tantivy's for {agree}/{total} sample queries")
    run.latency, run.cpu = time_queries(wix.search, queries, args.whoosh_queries)
    wix.close()
    if not args.keep:
        shutil.rmtree(path, ignore_errors=True)
    return run


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print("\n== indexing (embedded tantivy) ==")
    print(f"{'pages':>10} {'generate s':>10} {'index s':>8} {'pages/s':>8} {'CPU s':>8} "
          f"{'pages/CPU-s':>11} {'MB':>8} {'bytes/page':>10}")
    for r in runs:
        print(f"{r.pages:>10,} {r.gen_s:>10.0f} {r.index_s:>8.0f} {r.pages / r.index_s:>8,.0f} "
              f"{r.index_cpu_s:>8.0f} {r.pages / r.index_cpu_s:>11,.0f} "
              f"{r.bytes_on_disk / 1e6:>8,.0f} {r.bytes_on_disk / r.pages:>10,.0f}"
              + ("   (build reused)" if r.reused else ""))
        if r.whoosh:
            w = r.whoosh
            print(f"{'whoosh':>10} {'':>10} {w.index_s:>8.0f} {w.pages / w.index_s:>8,.0f} "
                  f"{w.index_cpu_s:>8.0f} {w.pages / w.index_cpu_s:>11,.0f} "
                  f"{w.bytes_on_disk / 1e6:>8,.0f} {w.bytes_on_disk / w.pages:>10,.0f}"
                  f"   (tantivy {w.index_s / r.index_s:.1f}x faster)"
                  + ("   (build reused)" if w.reused else ""))
    print(f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    _latency_table(runs, "latency", "query latency, wall-clock ms (p50 / p95)")
    _latency_table(runs, "cpu", "query cost, CPU ms (p50 / p95)")
    print(f"\n(tantivy: {args.queries} queries per class; whoosh: the first "
          f"{args.whoosh_queries} of the same lists; 5 warm-up queries each, not counted)")
    print("\n== planted identifiers at rank 1 ==")
    for r in runs:
        print(f"{r.pages:>10,} pages: {r.rank1_ok:,}/{r.rank1_total:,}"
              + ("" if r.rank1_ok == r.rank1_total else "  FAILURES: "
                 + "; ".join(r.rank1_failures)))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([_as_json(r) for r in runs], indent=1))


def _latency_table(runs: list[Run], attr: str, title: str) -> None:
    print(f"\n== {title} ==")
    head = f"{'class':<18}"
    for r in runs:
        head += f" {'tantivy ' + f'{r.pages:,}':>20}"
        if r.whoosh:
            head += f" {'whoosh ' + f'{r.pages:,}':>20} {'whoosh/tantivy':>14}"
    print(head + "   goal")
    for cls in CLASSES:
        line = f"{cls:<18}"
        for r in runs:
            lat = getattr(r, attr)[cls]
            p50, p95 = pct(lat, 50), pct(lat, 95)
            line += f" {p50:>9.1f} / {p95:>8.1f}"
            if r.whoosh:
                wl = getattr(r.whoosh, attr)[cls]
                wp50, wp95 = pct(wl, 50), pct(wl, 95)
                line += f" {wp50:>9.1f} / {wp95:>8.1f} {wp50 / p50:>6.0f}x/{wp95 / p95:>5.0f}x"
        big = pct(getattr(runs[-1], attr)[cls], 95)
        line += f"   p95 {'<' if big < GOAL_P95_MS else '>='} {GOAL_P95_MS:.0f} ms"
        print(line)


def _as_json(r: Run) -> dict[str, Any]:
    return {"pages": r.pages, "gen_s": r.gen_s, "index_s": r.index_s, "cpu_s": r.index_cpu_s,
            "bytes_on_disk": r.bytes_on_disk, "rank1": [r.rank1_ok, r.rank1_total],
            "latency": {c: [pct(v, 50), pct(v, 95)] for c, v in r.latency.items()},
            "cpu": {c: [pct(v, 50), pct(v, 95)] for c, v in r.cpu.items()},
            "whoosh": _as_json(r.whoosh) if r.whoosh else None}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, action="append",
                    help="corpus size; repeat for several (default 100000 and 1000000)")
    ap.add_argument("--whoosh-pages", type=int, default=None,
                    help="corpus size also run on Whoosh (default: the smallest; 0 = none)")
    ap.add_argument("--queries", type=int, default=200, help="timed queries per class")
    ap.add_argument("--whoosh-queries", type=int, default=30)
    ap.add_argument("--heap-mb", type=int, default=1000, help="tantivy writer heap")
    ap.add_argument("--writer-threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100_000, help="pages per writer commit")
    ap.add_argument("--rank-sample", type=int, default=0,
                    help="check a random sample of this many planted identifiers (0 = all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=None,
                    help="where indexes are built (default: a temp dir); needs ~3 KB/page")
    ap.add_argument("--keep", action="store_true", help="keep the indexes")
    ap.add_argument("--reuse", action="store_true",
                    help="with --dir: keep the indexes there and reuse those an earlier run "
                         "built from the same code and corpus (their build figures are "
                         "reported as measured then)")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args(argv)
    args.pages = sorted(args.pages or [100_000, 1_000_000])
    if args.whoosh_pages is None:
        args.whoosh_pages = args.pages[0]
    if args.reuse:
        if args.dir is None:
            ap.error("--reuse needs --dir")
        args.keep = True
        args.dir.mkdir(parents=True, exist_ok=True)
    root = args.dir if args.reuse else Path(tempfile.mkdtemp(prefix="dms-search-bench-",
                                                             dir=args.dir))
    free = shutil.disk_usage(root).free
    log(f"indexes in {root} ({free / 1e9:.0f} GB free)")
    try:
        runs = [bench_size(n, args, root) for n in args.pages]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    report(runs, args)


if __name__ == "__main__":
    main()
