"""OCR: the full pipeline with real workers vs. the raw tesseract CLI, on the same pages.

On the project's own synthetic scans (``dms.sample_data.generate_pages``: several document
types, Simplified and Traditional, some skewed, some rotated 90/180/270), in one run:

  (a) throughput, pages/min: ``dms worker -c 2`` on the embedded broker (pages ingested as
      one-page documents, timed from the first dispatch until every document is finished:
      split, OCR, searchable PDF, index) vs. ``tesseract IMG stdout -l LANGS --dpi 300``,
      one process per core (OMP_THREAD_LIMIT=1) -- goal: ratio >= 0.9;
  (b) character error rate vs. the rendered text (whitespace removed) for both, overall
      and on rotated, skewed-only and upright pages -- goal: pipeline <= 0.5 x raw on
      rotated pages;
  (c) the same two figures for the Traditional pages alone (a second timed pass of just
      those pages; their CER comes from the first pass).

Throughput is given twice: pages per wall-clock minute, and pages per CPU-minute (CPU
time of the tesseract processes for raw; of the worker and its pool for the pipeline).
On a shared machine the first swings with other jobs' load, the second does not.

Usage:  .venv/bin/python benchmarks/ocr_bench.py [--pages 40] [--seed 7] [--rounds 3]
        [--engine tesseract]
Raw and pipeline runs alternate ``--rounds`` times; the ratios are the medians of the
rounds' paired ratios (a single run swung by +-10% here, CPU time included).
The machine may be shared: the load average before and after is printed with the table.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from dms.db.migrate import upgrade  # noqa: E402
from dms.db.models import Customer, Document, Page  # noqa: E402
from dms.db.session import after_commit, session_scope  # noqa: E402
from dms.services.container import build_services  # noqa: E402
from dms.settings import load_settings  # noqa: E402
from dms.storage import content_key  # noqa: E402
from dms.worker.celery_app import make_celery  # noqa: E402
from ocr_worker.metrics import cer  # noqa: E402
from dms.worker.dispatcher import CeleryDispatcher  # noqa: E402

LANGS = "chi_sim+chi_tra+eng"
FINISHED = ("done", "partial", "failed")


@dataclass
class Run:
    seconds: float
    texts: dict[str, str]  # file name -> recognised text
    cpu_seconds: float  # CPU time of every process that did the work (user + system)

    def pages_per_min(self, n: int) -> float:
        return n / self.seconds * 60

    def pages_per_cpu_min(self, n: int) -> float:
        return n / self.cpu_seconds * 60


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a live process and all its descendants (with the children they have
    already reaped), read from /proc: the worker's pool processes included."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = sum(int(x) for x in fields[11:15]) / tick  # u, s, cu, cs
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(c for c, pp in parent.items() if pp == pid)
    return total


def raw_tesseract(images: list[Path], dpi: int, procs: int) -> Run:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(img: Path) -> tuple[str, str]:
        out = subprocess.run(["tesseract", str(img), "stdout", "-l", LANGS, "--dpi", str(dpi)],
                             env=env, capture_output=True, check=True, timeout=600)
        return img.name, out.stdout.decode("utf-8", "replace")

    t0, c0 = time.perf_counter(), children_cpu()
    with ThreadPoolExecutor(procs) as pool:
        texts = dict(pool.map(one, images))
    return Run(time.perf_counter() - t0, texts, children_cpu() - c0)


def pipeline(images: list[Path], root: Path, concurrency: int, engine: str) -> Run:
    """A fresh embedded system, one real ``dms worker -c N``; worker start-up not timed."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DMS_")},
           "DMS_DATA_DIR": str(root / "var"), "DMS_OCR_LANGUAGES": LANGS,
           "DMS_OCR_ENGINE": engine, "DMS_LOG_LEVEL": "INFO"}
    settings = load_settings(_env_file=None, data_dir=root / "var", ocr_languages=LANGS,
                             ocr_engine=engine)
    upgrade(settings.database_url)
    services = build_services(settings)
    dispatcher = CeleryDispatcher(make_celery(settings))
    log = root / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "dms", "worker", "-c", str(concurrency)],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
                              start_new_session=True, cwd=REPO)
    try:
        _wait(lambda: " ready." in log.read_text(errors="replace"), worker, log, 180)
        t0, c0 = time.perf_counter(), tree_cpu(worker.pid)
        names = _add_documents(services, dispatcher, images)
        n = len(images)

        def finished() -> bool:
            with services.sessions() as s:
                return s.scalar(select(func.count()).select_from(Document).where(
                    Document.ocr_status.in_(FINISHED))) == n

        _wait(finished, worker, log, 6 * 3600)
        seconds, cpu = time.perf_counter() - t0, tree_cpu(worker.pid) - c0
        time.sleep(2)  # let the last page's log lines reach the file
        _print_step_times(log)
        with services.sessions() as s:
            rows = s.execute(select(Document.id, Page.text).join(Page)).all()
        texts = {names[doc_id]: text for doc_id, text in rows}
        return Run(seconds, texts, cpu)
    finally:
        if worker.poll() is None:  # warm shutdown: the main process stops its pool
            worker.terminate()
            try:
                worker.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, 9)
                worker.wait()
        services.close()


def _print_step_times(log: Path) -> None:
    """Where the pipeline's time goes: per-step seconds summed over pages (worker log)."""
    totals: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        if "step seconds " in line:
            for step, secs in json.loads(line.split("step seconds ", 1)[1]).items():
                totals[step] = totals.get(step, 0.0) + secs
    if totals:
        print("  pipeline step seconds (sum over pages): " + ", ".join(
            f"{k} {v:.0f}" for k, v in totals.items()), file=sys.stderr)


def _add_documents(services: Any, dispatcher: CeleryDispatcher, images: list[Path]
                   ) -> dict[int, str]:
    """What ingest does for each file (original into the store, a row, OCR queued after
    commit), without its folder conventions: each page is a document of its own customer."""
    names = {}
    with session_scope(services.sessions) as s:
        for i, img in enumerate(images):
            data = img.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            key = content_key("originals", sha, ".png")
            services.store.put_bytes(key, data)
            doc = Document(sha256=sha, customer=Customer(customer_no=f"B{i:09d}"),
                           source_name=img.name, mime="image/png", size_bytes=len(data),
                           original_key=key)
            s.add(doc)
            s.flush()
            names[doc.id] = img.name
            after_commit(s, partial(dispatcher.ocr_document, doc.id))
    return names


def _wait(pred: Any, worker: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if worker.poll() is not None:
            raise SystemExit(f"worker died:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)  # finish detection adds at most this to the pipeline time
    raise SystemExit("timed out")


def mean_cer(truth: dict[str, dict[str, Any]], texts: dict[str, str], names: list[str]
             ) -> float:
    if not names:
        return float("nan")
    return sum(cer(truth[n]["text"], texts.get(n, "")) for n in names) / len(names)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--traditional-share", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=2, help="dms worker -c N")
    ap.add_argument("--keep", type=Path, default=None, help="work here and keep it")
    # The question is what the pipeline costs beyond tesseract itself, so by default the
    # pipeline reads with tesseract too; --engine ppocr shows the default engine's cost
    # against the same raw tesseract baseline (benchmarks/ocr_engines_bench.py compares
    # the engines properly).
    ap.add_argument("--engine", default="tesseract", choices=("tesseract", "ppocr"))
    # One run of each swings by +-10% on a shared machine (even in CPU time); rounds of
    # raw-then-pipeline give paired ratios, and their median is the figure.
    ap.add_argument("--rounds", type=int, default=3,
                    help="raw and pipeline runs alternate this many times (median ratio)")
    a = ap.parse_args(argv)
    from dms.sample_data import generate_pages

    root = a.keep or Path(tempfile.mkdtemp(prefix="ocr-bench-"))
    cores = os.cpu_count() or 1
    load0 = os.getloadavg()
    print(f"generating {a.pages} pages (seed {a.seed}) in {root} ...", file=sys.stderr)
    entries = generate_pages(root / "pages", a.pages, seed=a.seed,
                             traditional_share=a.traditional_share)
    truth = {e["file"]: e for e in entries}
    images = [root / "pages" / e["file"] for e in entries]
    names = [e["file"] for e in entries]
    groups = {
        "all": names,
        "rotated": [n for n in names if truth[n]["rotation"]],
        "skewed only": [n for n in names if not truth[n]["rotation"] and truth[n]["skew"]],
        "upright": [n for n in names if not truth[n]["rotation"] and not truth[n]["skew"]],
        "Traditional": [n for n in names if truth[n]["script"] == "traditional"],
    }
    trad = [root / "pages" / n for n in groups["Traditional"]]

    rounds: list[dict[str, Run]] = []
    for r in range(a.rounds):
        runs: dict[str, Run] = {}
        print(f"round {r + 1}/{a.rounds}: raw tesseract, {cores} processes ...", file=sys.stderr)
        runs["raw"] = raw_tesseract(images, 300, cores)
        print(f"round {r + 1}: pipeline, dms worker -c {a.concurrency} ...", file=sys.stderr)
        runs["pipe"] = pipeline(images, root / f"pipeline-all-{r}", a.concurrency, a.engine)
        if trad:
            print(f"round {r + 1}: Traditional pages only: raw, pipeline ...", file=sys.stderr)
            runs["raw_t"] = raw_tesseract(trad, 300, cores)
            runs["pipe_t"] = pipeline(trad, root / f"pipeline-traditional-{r}", a.concurrency,
                                      a.engine)
        rounds.append(runs)
    load1 = os.getloadavg()
    raw, pipe = rounds[0]["raw"], rounds[0]["pipe"]  # texts (CER) are the same every round

    print(f"\nOCR benchmark: {a.pages} synthetic pages (seed {a.seed}), languages {LANGS}, "
          f"{cores} cores, pipeline engine {a.engine}; {a.rounds} rounds of raw then "
          f"pipeline, medians shown (the ratio is the median of the rounds' ratios); load "
          f"average before {load0[0]:.1f}, after {load1[0]:.1f} (shared machine)")
    print(f"{'':34}{'raw tesseract':>15}{'pipeline':>12}{'ratio':>9}  goal   rounds' ratios")
    row = "{:34}{:>15.2f}{:>12.2f}{:>9.2f}  {}"
    results: dict[str, Any] = {"pages": a.pages, "seed": a.seed, "load": [load0, load1],
                               "rounds": a.rounds}

    def speed_rows(label: str, rk: str, pk: str, n: int) -> None:
        for unit, rate in (("pages/min", Run.pages_per_min),
                           ("pages per CPU-minute", Run.pages_per_cpu_min)):
            raws = [rate(x[rk], n) for x in rounds]
            pipes = [rate(x[pk], n) for x in rounds]
            ratios = [pp / rr for pp, rr in zip(pipes, raws, strict=True)]
            print(row.format(f"{label}{unit} ({n})", statistics.median(raws),
                             statistics.median(pipes), statistics.median(ratios), ">= 0.9")
                  + "   " + " ".join(f"{x:.2f}" for x in ratios))
            results[f"{label}{unit}".replace(" ", "_").lower()] = {
                "raw": raws, "pipeline": pipes, "ratios": ratios}

    n = len(images)
    speed_rows("", "raw", "pipe", n)
    for group, members in groups.items():
        r, p = mean_cer(truth, raw.texts, members), mean_cer(truth, pipe.texts, members)
        goal = "<= 0.5" if group == "rotated" else "< 1"
        print(row.format(f"CER {group} ({len(members)})", r, p, p / r if r else float("nan"),
                         goal))
        results[f"cer_{group}"] = {"raw": r, "pipeline": p}
    if trad:
        speed_rows("Traditional ", "raw_t", "pipe_t", len(trad))
    (root / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\n(CER: mean per page, whitespace removed; 'skewed only' = skewed, not rotated; "
          f"details in {root / 'results.json'})")
    print("(pages per CPU-minute: the same runs measured by the CPU time of every process "
          "that worked -- the tesseract processes for raw, the worker and its pool for the "
          "pipeline, from the first document queued to the last finished. On a machine "
          "shared with other jobs the wall-clock ratio swings with their load; this one "
          "does not.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
