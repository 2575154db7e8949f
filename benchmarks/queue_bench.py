"""Queues at scale: worker scaling on Redis, queueing overhead, time to searchable.

Real ``dms worker`` processes on Redis (broker) and PostgreSQL (both throwaway servers
from ``dms.testing``), the local object store and the embedded index, in one run:

  (3) OCR throughput with 1 and with 2 worker processes (``-c 1`` each) on the same
      documents (2-line pages; the PDFs rendered before the clock starts, after an
      untimed warm-up page per process), timed from the first dispatch until every
      document is finished (split, OCR, searchable PDF, index) -- goal: 2 / 1 >= 1.8
      on 2 cores. The machine may be shared, so the throughput per CPU-second of the
      workers (their process trees, from /proc) is given too: that ratio says whether
      a second process costs CPU per page.
      Where a worker's time per page goes (wall x processes / pages): the OCR steps
      (their seconds in the worker log), the rest of the page task (download, upload,
      database), the split and finalize tasks (Celery's "succeeded in" times), the time
      between two of a worker's tasks, when it waits for the queue to hand it the next
      (each worker logs to its own file and runs one task at a time), and the batch's
      ramp: waiting for the first task and, at the end, for the other worker's last page
      (a fixed cost per batch, not per page: 48 pages of 1.3 s leave one worker ~1 s
      idle at the end, 0.02 s a page). Queueing overhead = between tasks / OCR -- goal:
      < 2%; all but OCR / OCR is given too (split and finalize are the pipeline's work,
      the ramp the batch's).
  (4) 10,000 pages queued (``--backlog``: 1,000 documents of 10 one-line pages, already
      split, all their page tasks in the pages queue before the workers start), two
      worker processes: for each document that finishes during ``--window`` seconds, the
      time from its last page being read (the page row's ``ocr_finished_at``) to the
      document being searchable (seen ``done`` by a poll every 0.2 s; the index write
      runs in the finalize task right after that commit) -- p50/p95/max, goal: p95 < 30 s.
      Cheap pages (one line, tesseract engine) but the real queues, tasks and database.

Usage:  .venv/bin/python benchmarks/queue_bench.py [--docs 12] [--pages 3] [--rounds 2]
        [--backlog 10000] [--window 240] [--engine ppocr5] [--skip 3|4]
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.ocr_bench import tree_cpu  # noqa: E402
from dms.db.migrate import upgrade  # noqa: E402
from dms.db.models import Customer, Document, Page  # noqa: E402
from dms.db.session import after_commit, session_scope  # noqa: E402
from dms.services.container import Services, build_services  # noqa: E402
from dms.settings import Settings, load_settings  # noqa: E402
from dms.storage import content_key  # noqa: E402
from dms.testing.postgres import ThrowawayPostgres, ThrowawayRedis  # noqa: E402
from dms.worker.celery_app import make_celery  # noqa: E402
from dms.worker.dispatcher import CeleryDispatcher  # noqa: E402
from hanzi.fonts import NOTO_SANS  # noqa: E402
from ocr_worker.engines import get_engine  # noqa: E402
from ocr_worker.ppocr_models import ENGINE_MODELS, warm_up  # noqa: E402

FONT = NOTO_SANS.regular
FINISHED = ("done", "partial", "failed")
LANGS = "chi_sim"
TASK_DONE = re.compile(r"Task (dms\.\w+)\[[0-9a-f-]+\] succeeded in ([0-9.]+)s")
# The same lines with their time (the log format of dms.cli.configure_logging).
TASK_SPAN = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*Task dms\.\w+\[[0-9a-f-]+\] "
                       r"succeeded in ([0-9.]+)s", re.MULTILINE)


def page_image(lines: list[str], width: int) -> Image.Image:
    font = ImageFont.truetype(str(FONT), 50)
    im = Image.new("L", (width, 80 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((60, 40 + i * 90), line, font=font, fill=0)
    return im


class System:
    """A data dir on the shared PostgreSQL and Redis; workers as real subprocesses."""

    def __init__(self, root: Path, pg: ThrowawayPostgres, redis_url: str, **extra: str) -> None:
        self.root = root
        db = pg.create_database(f"qb{os.getpid()}{len(list(root.parent.iterdir()))}")
        base = {"DMS_DATA_DIR": str(root / "var"), "DMS_DATABASE_URL": db,
                "DMS_BROKER_URL": redis_url, "DMS_OCR_LANGUAGES": LANGS,
                "DMS_LOG_LEVEL": "INFO", "DMS_SECRET_KEY": "bench", **extra}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")} | base
        self.settings = load_settings(_env_file=None, **{k[4:].lower(): v for k, v in base.items()})
        upgrade(self.settings.database_url)
        self.services: Services = build_services(self.settings)
        self.app = make_celery(self.settings)
        with self.app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
        self.dispatcher = CeleryDispatcher(self.app)
        # One log per worker process: its tasks run one after another, so the gaps
        # between them are that worker's waits for the queue (see hand_offs).
        self.logs: list[Path] = []
        self.log_from: dict[Path, int] = {}  # where the timed part of each log starts
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            log = self.root / f"worker-{len(self.logs)}.log"
            self.logs.append(log)
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "dms", "worker", "-c", "1"], env=self.env, cwd=REPO,
                stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True))
        self.wait(lambda: all(" ready." in log.read_text(errors="replace")
                              for log in self.logs), 300)

    def start_clock(self) -> None:
        """What the workers log from now on is the timed part."""
        self.log_from = {log: log.stat().st_size for log in self.logs}

    def cpu(self) -> float:
        return sum(tree_cpu(w.pid) for w in self.workers)

    def wait(self, pred: Callable[[], bool], timeout: float, every: float = 0.1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            for w in self.workers:
                if w.poll() is not None:
                    tail = "".join(log.read_text(errors="replace")[-1500:]
                                   for log in self.logs)
                    raise SystemExit(f"worker died:\n{tail}")
            time.sleep(every)
        raise SystemExit("timed out")

    def finished(self, n: int) -> bool:
        with self.services.sessions() as s:
            return s.scalar(select(func.count()).select_from(Document).where(
                Document.ocr_status.in_(FINISHED))) == n

    def timed_log(self, log: Path | None = None) -> str:
        """The timed part of one worker's log, or of all of them."""
        parts = []
        for path in ([log] if log is not None else self.logs):
            with open(path, "rb") as fh:
                fh.seek(self.log_from.get(path, 0))
                parts.append(fh.read().decode("utf-8", "replace"))
        return "".join(parts)

    def hand_offs(self, started: datetime, ended: datetime) -> tuple[float, float]:
        """(seconds the workers waited between two of their tasks, seconds they waited
        before their first task and after their last). Each worker runs one task at a
        time, so a gap between the end of one (its "succeeded in" line) and the start of
        the next (that line's time less its duration) is the queue handing it work: the
        queueing cost. Before the first and after the last task a worker waits for the
        batch to start or for the other worker's last page: the batch's ramp, which a
        backlog of millions of pages does not have."""
        between = ramp = 0.0
        for log in self.logs:
            spans = sorted((end - timedelta(seconds=secs), end) for end, secs in (
                (datetime.strptime(ts, "%Y-%m-%d %H:%M:%S,%f"), float(secs))
                for ts, secs in TASK_SPAN.findall(self.timed_log(log))))
            if not spans:
                ramp += (ended - started).total_seconds()
                continue
            between += sum(max(0.0, (b[0] - a[1]).total_seconds())
                           for a, b in itertools.pairwise(spans))
            ramp += max(0.0, (spans[0][0] - started).total_seconds()) + max(
                0.0, (ended - spans[-1][1]).total_seconds())
        return between, ramp

    def task_seconds(self) -> dict[str, float]:
        """Seconds each task name ran in total, from Celery's 'succeeded in' log lines."""
        out: dict[str, float] = {}
        for name, secs in TASK_DONE.findall(self.timed_log()):
            out[name] = out.get(name, 0.0) + float(secs)
        return out

    def ocr_seconds(self) -> tuple[int, float]:
        """(pages read, seconds in the pipeline's steps) from the worker log."""
        n, total = 0, 0.0
        for line in self.timed_log().splitlines():
            if "step seconds " in line:
                n += 1
                total += sum(json.loads(line.split("step seconds ", 1)[1]).values())
        return n, total

    def stop(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.terminate()
        for w in self.workers:
            try:
                w.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, 9)
                w.wait()
        self.services.close()


def make_pdfs(root: Path, docs: int, pages: int, first: int = 0) -> list[Path]:
    out = []
    for d in range(first, first + docs):
        ims = [page_image([f"供用电合同 第{p + 1}页", f"户名 张三 户号 {3301000000 + d}"], 1000)
               for p in range(pages)]
        path = root / f"doc{d}.pdf"
        ims[0].save(path, save_all=True, append_images=ims[1:], resolution=300)
        out.append(path)
    return out


def add_pdf_documents(system: System, pdfs: list[Path]) -> None:
    """As ingest adds them: the original in the store, a row, the split queued."""
    with session_scope(system.services.sessions) as s:
        for path in pdfs:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            key = content_key("originals", sha, ".pdf")
            system.services.store.put_bytes(key, data)
            doc = Document(sha256=sha, customer=Customer(customer_no=f"T{path.stem}"),
                           source_name=path.name, mime="application/pdf",
                           size_bytes=len(data), original_key=key)
            s.add(doc)
            s.flush()
            after_commit(s, partial(system.dispatcher.ocr_document, doc.id))


def _engine_loop(engine: str, images: list[Path], barrier: Any, results: Any) -> None:
    """One plain process: load and warm the engine, then (all together) read ``images``."""
    reader = get_engine(engine)
    models = ENGINE_MODELS.get(engine)
    if models:
        warm_up(models)
    reader.recognise(images[0], languages=LANGS, dpi=300, timeout=600)  # as the workers' warm-up
    barrier.wait()
    t0 = time.perf_counter()
    for img in images:
        reader.recognise(img, languages=LANGS, dpi=300, timeout=600)
    results.put(time.perf_counter() - t0)


def machine_scaling(root: Path, engine: str, total: int) -> dict[int, float]:
    """Pages per second of the engine alone, no queue, no database, in 1 and in 2 plain
    processes that share ``total`` pages of the same kind: what the machine itself gives a
    second process of this work (two vCPUs sharing a physical core or its caches give less
    than 2x), the baseline the workers' 2 / 1 is read against."""
    images = []
    for i in range(total):
        path = root / f"alone-{i}.png"
        page_image([f"供用电合同 第{i % 6 + 1}页", f"户名 张三 户号 {3301000000 + i}"],
                   1000).save(path, dpi=(300, 300))
        images.append(path)
    rates = {}
    for n in (1, 2):
        barrier, results = mp.Barrier(n), mp.Queue()  # type: ignore[var-annotated]
        procs = [mp.Process(target=_engine_loop, args=(engine, images[k::n], barrier, results))
                 for k in range(n)]
        for proc in procs:
            proc.start()
        walls = [results.get(timeout=3600) for _ in procs]
        for proc in procs:
            proc.join()
        rates[n] = total / max(walls)
    return rates


def throughput(root: Path, pg: ThrowawayPostgres, redis_url: str, workers: int, docs: int,
               pages: int, engine: str) -> dict[str, float]:
    system = System(root, pg, redis_url, DMS_OCR_ENGINE=engine)
    try:
        system.start_workers(workers)
        # Warm up, untimed: every pool process loads its engine on its first page (PP-OCR).
        add_pdf_documents(system, make_pdfs(root, 1, 2 * workers, first=10_000))
        system.wait(lambda: system.finished(1), 3600)
        time.sleep(1)
        system.start_clock()
        pdfs = make_pdfs(root, docs, pages)  # rendered before the clock starts
        t0, c0, started = time.perf_counter(), system.cpu(), datetime.now()
        add_pdf_documents(system, pdfs)
        system.wait(lambda: system.finished(docs + 1), 6 * 3600)
        wall, cpu, ended = time.perf_counter() - t0, system.cpu() - c0, datetime.now()
        time.sleep(2)  # the last log lines
        waits, ramp = system.hand_offs(started, ended)
        n, ocr = system.ocr_seconds()
        total = docs * pages
        assert n == total, f"{n} page reads logged for {total} pages"
        tasks = system.task_seconds()
        per_page = wall * workers / total  # worker time per page, all included
        between = waits / total  # no task running between two of a worker's tasks
        return {"wall": wall, "cpu": cpu, "ppm": total / wall * 60, "ppcm": total / cpu * 60,
                "ocr": ocr / n, "e2e": per_page,
                "page_rest": tasks.get("dms.ocr_page", 0.0) / total - ocr / n,
                "split": tasks.get("dms.ocr_document", 0.0) / total,
                "finalize": tasks.get("dms.finalize_document", 0.0) / total,
                "between": between, "ramp": ramp / total, "queueing": between / (ocr / n),
                "overhead": (per_page - ocr / n) / (ocr / n)}
    finally:
        system.stop()


def backlog(root: Path, pg: ThrowawayPostgres, redis_url: str, docs: int, pages: int,
            window: float) -> dict[str, Any]:
    system = System(root, pg, redis_url, DMS_OCR_ENGINE="tesseract")
    try:
        img = root / "page.png"
        page_image(["户号 3301000001"], 500).save(img, dpi=(300, 300))
        key = content_key("pages", hashlib.sha256(img.read_bytes()).hexdigest(), ".png")
        system.services.store.put_file(key, img, "image/png")
        with session_scope(system.services.sessions) as s:
            for d in range(docs):
                s.add(Document(sha256=f"{d:064x}", customer=Customer(customer_no=f"Q{d:09d}"),
                               source_name=f"q{d}.pdf", mime="application/pdf", size_bytes=1,
                               original_key=key, ocr_status="ocr", page_count=pages))
            s.flush()
            doc_ids = list(s.scalars(select(Document.id).order_by(Document.id)))
            s.execute(insert(Page), [{"document_id": d, "page_no": p + 1, "image_key": key,
                                      "existing_text": ""} for d in doc_ids for p in range(pages)])
            page_ids = list(s.scalars(select(Page.id).order_by(Page.id)))
        t_queue = time.perf_counter()
        for pid in page_ids:
            system.dispatcher.ocr_page(pid)
        t_queue = time.perf_counter() - t_queue
        with system.app.connection_for_read() as conn:
            queued = conn.default_channel.client.llen("pages")
        system.start_workers(2)
        seen: dict[int, datetime] = {}
        t_end = time.monotonic() + window
        while time.monotonic() < t_end:
            with system.services.sessions() as s:
                done = s.scalars(select(Document.id).where(Document.ocr_status == "done",
                                                           Document.id.not_in(seen or [0])))
                now = datetime.now(UTC)
                for doc_id in done:
                    seen[doc_id] = now
            time.sleep(0.2)
        with system.services.sessions() as s:
            last_read = dict(s.execute(select(Page.document_id, func.max(Page.ocr_finished_at))
                                       .where(Page.document_id.in_(list(seen)))
                                       .group_by(Page.document_id)).all())
            pages_read = s.scalar(select(func.count()).select_from(Page)
                                  .where(Page.ocr_status == "done"))
        system.services.index.refresh()
        indexed = system.services.index.count()
        lat = sorted((seen[d] - (t if t.tzinfo else t.replace(tzinfo=UTC))).total_seconds()
                     for d, t in last_read.items() if t is not None)
        return {"queued": queued, "queue_s": t_queue, "docs_done": len(lat),
                "pages_read": pages_read, "indexed_pages": indexed,
                "p50": statistics.median(lat) if lat else float("nan"),
                "p95": lat[max(0, int(round(0.95 * len(lat))) - 1)] if lat else float("nan"),
                "max": lat[-1] if lat else float("nan")}
    finally:
        system.stop()


def scaling(root: Path, pg: ThrowawayPostgres, redis_url: str, args: argparse.Namespace,
            load0: float) -> None:
    """Figure (3) in ``args.rounds`` rounds, the order of 1 and 2 workers alternating
    (1, 2 | 2, 1 | ...), each round with the machine's own 2 / 1 for the engine alone
    measured right after it: a shared host's second vCPU comes and goes (measured: the
    engine alone gave 1.94x, 0.93x and 2.07x in three runs of one afternoon), and a ratio
    is only worth the round it was measured in. The figure is the median over rounds."""
    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        runs: dict[int, dict[str, float]] = {}
        for n in ((1, 2) if r % 2 == 0 else (2, 1)):
            (root / f"t{n}-{r}").mkdir()
            runs[n] = throughput(root / f"t{n}-{r}", pg, redis_url, n, args.docs, args.pages,
                                 args.engine)
            print(f"  round {r + 1}, {n} worker process(es): {runs[n]}", file=sys.stderr)
        (root / f"alone-{r}").mkdir()
        machine = machine_scaling(root / f"alone-{r}", args.engine, args.docs * args.pages)
        rounds.append({"runs": runs, "machine": machine[2] / machine[1],
                       "alone": machine, "load": os.getloadavg()[0]})
    print(f"\n(3) OCR throughput on Redis, {args.docs} documents x {args.pages} pages, "
          f"engine {args.engine}, {args.rounds} rounds "
          f"(load average {load0:.1f} -> {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    print("| round | workers | wall s | pages/min | CPU s | pages/CPU-min |")
    print("|---|---|---|---|---|---|")
    for r, x in enumerate(rounds, 1):
        for n, run in sorted(x["runs"].items()):
            print(f"| {r} | {n} | {run['wall']:.1f} | {run['ppm']:.1f} | {run['cpu']:.1f} "
                  f"| {run['ppcm']:.1f} |")
    print("\nwhere a worker's time per page goes (seconds per page; wall time)")
    print("| round | workers | OCR steps | rest of the page task | split | finalize "
          "| between tasks | batch ramp | all | between tasks / OCR | all but OCR / OCR |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r, x in enumerate(rounds, 1):
        for n, run in sorted(x["runs"].items()):
            print(f"| {r} | {n} | {run['ocr']:.3f} | {run['page_rest']:.3f} "
                  f"| {run['split']:.3f} | {run['finalize']:.3f} | {run['between']:.3f} "
                  f"| {run['ramp']:.3f} "
                  f"| {run['e2e']:.3f} | {run['queueing']:.1%} | {run['overhead']:.1%} |")
    print("\n| round | workers 2 / 1, pages/min | pages per CPU-min | engine alone 2 / 1 "
          "(this machine, no queue) | workers against it |")
    print("|---|---|---|---|---|")
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    machine_ratios: list[float] = []
    against: list[float] = []
    for r, x in enumerate(rounds, 1):
        one, two = x["runs"][1], x["runs"][2]
        ratios.append(two["ppm"] / one["ppm"])
        cpu_ratios.append(two["ppcm"] / one["ppcm"])
        machine_ratios.append(x["machine"])
        against.append(ratios[-1] / x["machine"])
        print(f"| {r} | {ratios[-1]:.2f}x | {cpu_ratios[-1]:.2f}x | {machine_ratios[-1]:.2f}x "
              f"| {against[-1]:.2f} |")
    queueing = [run["queueing"] for x in rounds for run in x["runs"].values()]
    print(f"2 / 1 workers, median of {len(rounds)} rounds: "
          f"{statistics.median(ratios):.2f}x pages/min (goal >= 1.8), "
          f"{statistics.median(cpu_ratios):.2f}x pages per CPU-minute; this machine's own "
          f"2 / 1 for the engine alone {statistics.median(machine_ratios):.2f}x, the workers "
          f"against it {statistics.median(against):.2f}; queueing overhead (between tasks / "
          f"OCR) median {statistics.median(queueing):.1%}, max {max(queueing):.1%} "
          f"(goal < 2%)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=12, help="(3): documents per run")
    ap.add_argument("--pages", type=int, default=3, help="(3): pages per document")
    ap.add_argument("--backlog", type=int, default=10_000, help="(4): pages queued")
    ap.add_argument("--window", type=float, default=240, help="(4): seconds measured")
    ap.add_argument("--engine", default=Settings.model_fields["ocr_engine"].default,
                    help="(3): OCR engine, default the deployment's (each pool process "
                         "first reads an untimed page)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="(3): rounds, alternating the order of 1 and 2 workers")
    ap.add_argument("--skip", choices=["3", "4"], default=None)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="dms-queue-bench-") as tmp, \
            ThrowawayPostgres() as pg, ThrowawayRedis() as redis:
        root = Path(tmp)
        if args.skip != "3":
            scaling(root, pg, redis.url, args, load0)
        if args.skip != "4":
            per_doc = 10
            (root / "b").mkdir()
            r = backlog(root / "b", pg, redis.url, args.backlog // per_doc, per_doc, args.window)
            print(f"\n(4) {r['queued']} page tasks queued on Redis (sent in {r['queue_s']:.1f} s), "
                  f"2 worker processes, {args.window:.0f} s measured "
                  f"(load average {os.getloadavg()[0]:.1f})")
            print(f"documents finished: {r['docs_done']}, pages read: {r['pages_read']}, "
                  f"pages in the index: {r['indexed_pages']}")
            print(f"last page read -> document searchable: p50 {r['p50']:.2f} s, "
                  f"p95 {r['p95']:.2f} s (goal < 30), max {r['max']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
