"""OCR of what scan stations write, before (a git ref, default main) and after (this tree).

Input, from the project's synthetic pages (``dms.sample_data.generate_pages``: document
types, Simplified/Traditional, rotated and skewed, scanner noise; ground-truth text):
multi-page image-only PDFs with one JPEG (grey or colour) or CCITT G4 image per page at
200 and 300 dpi, multi-page G4 TIFFs, one-page JPEGs and PNGs -- the encodings a
scanner's "scan to PDF/TIFF" writes.

Each variant runs the real path: a fresh embedded system, ``dms worker -c N`` of that
code (split -> page tasks -> finalize -> index), documents queued as ingest queues them.
"before" is the code of ``--before`` (``git archive`` into a temp dir, imported through
PYTHONPATH with the same virtualenv), so the baseline is main's own rasteriser and
storage, measured in the same run on the same files. Figures:

  1. pages per CPU-minute (the worker and its pool) and per wall minute, after/before
     (goal >= 1.5); CER before/after (goal: within +-0.005); bytes stored beside the
     originals over the originals' bytes (goal <= 0.3);
  2. per-step CPU seconds of one pass of the library (rasterise, each page step, PDF
     assembly) on the same files, and the pipeline against the engine alone on the same
     page images (the after variant's page images; goal >= 0.9): tesseract, and ppocr
     with ``--ppocr``.

Usage:  .venv/bin/python benchmarks/scanner_bench.py [--pages 24] [--seed 7]
        [--before main] [--after HEAD] [--concurrency 2] [--rounds 1] [--ppocr]
        [--engine tesseract|ppocr|ppocr5] [--vs-engine-only [--per-page]]
        [--keep DIR (reused by a rerun)]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
LANGS = "chi_sim+chi_tra+eng"
# (name, container, codec, dpi, pages per file): what stations write, in rotation.
FORMATS = [
    ("pdf-jpeg-grey-200", "pdf", "L", 200, 3),
    ("pdf-g4-200", "pdf", "1", 200, 3),
    ("pdf-jpeg-colour-200", "pdf", "RGB", 200, 3),
    ("pdf-jpeg-grey-300", "pdf", "L", 300, 3),
    ("pdf-g4-300", "pdf", "1", 300, 3),
    ("tiff-g4-200", "tiff", "1", 200, 3),
    ("jpeg-grey-200", "jpeg", "L", 200, 1),
    ("png-grey-300", "png", "L", 300, 1),
]
EXT = {"pdf": "pdf", "tiff": "tif", "jpeg": "jpg", "png": "png"}


def scanner_files(pages_dir: Path, entries: list[dict[str, Any]], out: Path
                  ) -> dict[str, list[str]]:
    """Write the scanner files; return file name -> the truth entries' files, per page."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    i = k = 0
    while i < len(entries):
        name, container, mode, dpi, per_file = FORMATS[k % len(FORMATS)]
        group = entries[i : i + per_file]
        i, k = i + per_file, k + 1
        images = []
        for e in group:
            with Image.open(pages_dir / e["file"]) as im:  # generated at 300 dpi
                page = im.convert("L" if mode == "1" else mode)
            if dpi != 300:
                page = page.resize((round(page.width * dpi / 300),
                                    round(page.height * dpi / 300)), Image.Resampling.LANCZOS)
            if mode == "1":  # a scanner driver's fixed threshold
                page = page.point(lambda v: 255 if v > 160 else 0, mode="1")
            images.append(page)
        fname = f"{k:03d}-{name}.{EXT[container]}"
        path = out / fname
        if container == "pdf":
            images[0].save(path, "PDF", resolution=float(dpi), save_all=True,
                           append_images=images[1:])
        elif container == "tiff":
            images[0].save(path, save_all=True, append_images=images[1:],
                           compression="group4", dpi=(dpi, dpi))
        elif container == "jpeg":
            images[0].save(path, quality=80, dpi=(dpi, dpi))
        else:
            images[0].save(path, dpi=(dpi, dpi))
        files[fname] = [e["file"] for e in group]
    return files


# --- one variant, in a child process with that variant's code -------------------------


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a live process and all its descendants (and their reaped children)."""
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
        cpu[int(d.name)] = sum(int(x) for x in fields[11:15]) / tick
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(c for c, pp in parent.items() if pp == pid)
    return total


def run_variant(files_dir: Path, root: Path, concurrency: int, engine: str) -> dict[str, Any]:
    """Child mode: the code on PYTHONPATH runs a worker over every file in ``files_dir``."""
    import hashlib

    from sqlalchemy import func, select

    import dms
    from dms.db.migrate import upgrade
    from dms.db.models import Customer, Document, Page
    from dms.db.session import after_commit, session_scope
    from dms.services.container import build_services
    from dms.settings import load_settings
    from dms.storage import content_key
    # The Celery side lives in dms.worker since issue 18; the baseline may predate it.
    # Decided by the tree on the path (an editable install would find this tree's).
    if (Path(dms.__file__).parent / "worker").is_dir():
        from dms.worker.celery_app import make_celery
        from dms.worker.dispatcher import CeleryDispatcher
    else:
        from ocr_worker.celery_app import make_celery  # type: ignore[no-redef]
        from ocr_worker.tasks import CeleryDispatcher  # type: ignore[no-redef]

    code = str(Path(dms.__file__).resolve().parent.parent)
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
                              start_new_session=True, cwd=code)
    paths = sorted(files_dir.iterdir())
    try:
        _wait(lambda: " ready." in log.read_text(errors="replace"), worker, log, 300)
        # Worker start-up is not page work: a tree whose pool processes load their PP-OCR
        # models at start (dms/worker/preload.py) is timed once each has them.
        preload = Path(code) / "dms" / "worker" / "preload.py"
        # Celery logs "ready" before its pool processes have loaded them (measured: 2.8 CPU
        # s of a 2-process tesseract worker came after it, 0.17 s a page of 16 pages).
        marker = ("TESSERACT_LOADED", "tesseract models loaded") if engine == "tesseract" \
            else ("PPOCR_LOADED", "PP-OCR models loaded")
        if preload.exists() and marker[0] in preload.read_text():
            _wait(lambda: log.read_text(errors="replace").count(marker[1]) >= concurrency,
                  worker, log, 300)
        t0, c0 = time.perf_counter(), tree_cpu(worker.pid)
        names: dict[int, str] = {}
        with session_scope(services.sessions) as s:
            for i, path in enumerate(paths):
                data = path.read_bytes()
                sha = hashlib.sha256(data).hexdigest()
                key = content_key("originals", sha, path.suffix.lower())
                services.store.put_bytes(key, data)
                doc = Document(sha256=sha, customer=Customer(customer_no=f"B{i:09d}"),
                               source_name=path.name, mime="application/octet-stream",
                               size_bytes=len(data), original_key=key)
                s.add(doc)
                s.flush()
                names[doc.id] = path.name
                after_commit(s, partial(dispatcher.ocr_document, doc.id))

        def finished() -> bool:
            with services.sessions() as s:
                return s.scalar(select(func.count()).select_from(Document).where(
                    Document.ocr_status.in_(("done", "partial", "failed")))) == len(paths)

        _wait(finished, worker, log, 6 * 3600)
        seconds, cpu = time.perf_counter() - t0, tree_cpu(worker.pid) - c0
        time.sleep(2)
        with services.sessions() as s:
            rows = s.execute(select(Document.id, Page.page_no, Page.text, Page.ocr_status)
                             .join(Page)).all()
            statuses = dict(s.execute(select(Document.id, Document.ocr_status)).all())
        texts = {f"{names[d]}#{n}": t for d, n, t, _ in rows}
        stored = originals = 0
        by_kind: dict[str, int] = {}
        for key in services.store.iter_keys(""):
            size = services.store.size(key)
            kind = key.split("/", 1)[0]
            by_kind[kind] = by_kind.get(kind, 0) + size
            if kind == "originals":
                originals += size
            else:
                stored += size
        steps: dict[str, float] = {}
        for line in log.read_text(errors="replace").splitlines():
            if "step seconds " in line:
                for step, secs in json.loads(line.split("step seconds ", 1)[1]).items():
                    steps[step] = steps.get(step, 0.0) + secs
        return {"code": code, "seconds": seconds, "cpu": cpu, "pages": len(rows),
                "texts": texts, "stored": stored, "originals": originals,
                "by_kind": by_kind, "steps": steps,
                "failed": [names[d] for d, st in statuses.items() if st != "done"]}
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, 9)
                worker.wait()
        services.close()


def _wait(pred: Any, worker: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if worker.poll() is not None:
            raise SystemExit(f"worker died:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    raise SystemExit("timed out")


def child(tree: Path, mode: str, *args: str, save: Path) -> dict[str, Any]:
    """Run this script's ``mode`` with the code of ``tree`` first on the import path; the
    result is kept in ``save`` (a rerun with the same ``--keep`` reuses it)."""
    if not save.exists():
        env = {**os.environ, "PYTHONPATH": str(tree)}
        script = REPO / "benchmarks" / "scanner_bench_steps.py" if mode == "steps" else __file__
        tmp = save.with_suffix(".partial")
        subprocess.run([sys.executable, str(script), f"--{mode}", *args, "--result", str(tmp)],
                       env=env, check=True, cwd=tree)
        tmp.rename(save)
    result: dict[str, Any] = json.loads(save.read_text())
    return result


def export(ref: str, dest: Path) -> Path:
    """The tree of git ``ref`` in ``dest`` (git archive: no worktree, nothing registered)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def raw_tesseract(images: list[tuple[Path, int]], procs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``tesseract IMG stdout --dpi D``, a process a core."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(item: tuple[Path, int]) -> None:
        img, dpi = item
        subprocess.run(["tesseract", str(img), "stdout", "-l", LANGS, "--dpi", str(dpi)],
                       env=env, capture_output=True, check=True, timeout=900)

    import resource

    def children() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    t0, c0 = time.perf_counter(), children()
    with ThreadPoolExecutor(procs) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - t0, children() - c0


def vs_engine(a: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Figure 2 for ``a.engine``: this tree's worker against the engine alone (in one
    process, no steps) on the page images this tree's rasteriser makes of the files.

    The two passes alternate, ``a.rounds`` of each, in the order pipeline, alone, alone,
    pipeline, ... (ABBA): a load that rises or falls during the run (the machine is
    shared) weighs on both sides alike. The figure is the median of the rounds' ratios.
    With ``a.per_page`` an in-process pass of the pipeline is compared with the engine
    alone page by page (CPU seconds, and what the steps did on the costliest pages)."""
    after = export(a.after, root / "after-code")
    rounds: list[dict[str, float]] = []
    # At least two ABBA cycles: a shared host's speed drifts by 10-15% within a minute
    # (measured: the same 16 pages at 1.54 and 1.77 CPU s a page in two passes 40 s apart).
    for r in range(max(4, a.rounds)):
        order = ("pipeline", "alone") if r % 2 == 0 else ("alone", "pipeline")
        got: dict[str, dict[str, Any]] = {}
        loads = []
        for side in order:
            loads.append(os.getloadavg()[0])
            print(f"round {r + 1}: {side} ({a.engine}) ...", file=sys.stderr)
            if side == "pipeline":
                got[side] = child(after, "variant", str(root / "files"), "--root",
                                  str(root / f"run-{a.engine}-{r}"), "--concurrency",
                                  str(a.concurrency), "--engine", a.engine,
                                  save=root / f"run-{a.engine}-{r}.json")
            else:
                got[side] = alone_parallel(after, root, a.engine, a.concurrency,
                                           root / f"{a.engine}-alone-{r}")
        loads.append(os.getloadavg()[0])
        pipe, alone = got["pipeline"], got["alone"]
        rounds.append({"pipeline": pipe["pages"] / pipe["cpu"] * 60,
                       "alone": alone["pages"] / alone["cpu"] * 60,
                       "pipe_s": pipe["cpu"] / pipe["pages"],
                       "alone_s": alone["cpu"] / alone["pages"],
                       "pages": alone["pages"], "load": statistics.fmean(loads)})
    for r, x in enumerate(rounds, 1):
        print(f"  round {r}: CPU s per page pipeline {x['pipe_s']:.2f}, engine alone "
              f"{x['alone_s']:.2f}, ratio {x['pipeline'] / x['alone']:.2f} (load average "
              f"{x['load']:.1f})")
    ratio = statistics.median(x["pipeline"] / x["alone"] for x in rounds)
    pipe_rate = statistics.median(x["pipeline"] for x in rounds)
    alone_rate = statistics.median(x["alone"] for x in rounds)
    print(f"{a.engine}: pages per CPU-minute on the same {rounds[0]['pages']:.0f} pages, "
          f"median of {len(rounds)} alternated rounds: engine alone ({a.concurrency} "
          f"processes) {alone_rate:.2f}, "
          f"pipeline (dms worker -c {a.concurrency}) {pipe_rate:.2f}, ratio {ratio:.2f} "
          f"(goal >= 0.9); load average {statistics.fmean(x['load'] for x in rounds):.1f}")
    if a.per_page:
        per_page(a, after, root)
    return {"alone": alone_rate, "pipeline": pipe_rate, "ratio": ratio, "rounds": rounds}


def alone_parallel(tree: Path, root: Path, engine: str, procs: int, out: Path
                   ) -> dict[str, Any]:
    """The engine alone over the files in ``procs`` processes at once, as the worker reads
    them with ``-c procs``: the two sides of figure 2 then share the machine alike (two
    processes on a shared host's two vCPUs each run slower than one alone). The files are
    dealt to the processes by pages, largest first; each process loads its models before
    its clock starts, as a worker's pool process does."""
    parts: list[list[Path]] = [[] for _ in range(procs)]
    load = [0] * procs
    pages = json.loads((root / "files.json").read_text())
    for f in sorted((root / "files").iterdir(), key=lambda f: -len(pages.get(f.name, [1]))):
        k = load.index(min(load))
        parts[k].append(f)
        load[k] += len(pages.get(f.name, [1]))
    saves = [out.with_name(f"{out.name}-{k}.json") for k in range(procs)]
    with ThreadPoolExecutor(procs) as pool:
        for k, part in enumerate(parts):
            files = out / f"files-{k}"
            files.mkdir(parents=True, exist_ok=True)
            for f in part:
                if not (files / f.name).exists():
                    (files / f.name).symlink_to(f)
        results = list(pool.map(
            lambda k: child(tree, "steps", str(out / f"files-{k}"), "--root",
                            str(out / f"run-{k}"), "--engine", engine, "--engine-only",
                            save=saves[k]), range(procs)))
    merged: dict[str, Any] = {"pages": 0, "cpu": 0.0, "texts": {}, "per_page": {}}
    for res in results:
        merged["pages"] += res["pages"]
        merged["cpu"] += res["cpu"]
        merged["texts"].update(res["texts"])
        merged["per_page"].update(res["per_page"])
    return merged


def per_page(a: argparse.Namespace, tree: Path, root: Path) -> None:
    """The pipeline's steps in one process against the engine alone, page by page."""
    from ocr_worker.metrics import cer

    pipe = child(tree, "steps", str(root / "files"), "--root", str(root / f"{a.engine}-steps"),
                 "--engine", a.engine, save=root / f"{a.engine}-steps.json")
    alone = child(tree, "steps", str(root / "files"), "--root",
                  str(root / f"{a.engine}-alone-pp"), "--engine", a.engine, "--engine-only",
                  save=root / f"{a.engine}-alone-pp.json")
    truth = {e["file"]: e["text"] for e in json.loads(
        (root / "pages" / "truth.json").read_text())}
    files = json.loads((root / "files.json").read_text())
    page_truth = {f"{f}#{n}": truth[p] for f, ps in files.items() for n, p in enumerate(ps, 1)}
    pp, al = pipe["per_page"], alone["per_page"]
    steps = ", ".join(f"{k} {v / pipe['pages']:.2f}" for k, v in pipe["steps"].items())
    print(f"\n{a.engine}, page by page (in-process; CPU s): pipeline "
          f"{pipe['cpu'] / pipe['pages']:.2f} a page ({steps}), engine alone "
          f"{alone['cpu'] / alone['pages']:.2f}")
    for name in ("pipeline", "alone"):
        texts = (pipe if name == "pipeline" else alone)["texts"]
        mean = statistics.fmean(cer(page_truth[k], texts.get(k, "")) for k in page_truth)
        print(f"  CER {name}: {mean:.4f}")
    row = "  {:30}{:>8}{:>8}{:>8}  {}"
    print(row.format("page", "pipe", "alone", "extra", "steps over 0.1 s; notes"))
    for k in sorted(pp, key=lambda k: al.get(k, {}).get("cpu", 0) - pp[k]["cpu"]):
        steps = ", ".join(f"{s} {v:.2f}" for s, v in pp[k]["steps"].items() if v > 0.1)
        notes = pp[k]["notes"]
        extra = [f"orientation {notes.get('orientation')}"]
        if notes.get("fallback"):
            extra.append(f"read again {notes['fallback']}")
        if pp[k].get("detection") == "reused":
            extra.append("detection reused")
        print(row.format(k, f"{pp[k]['cpu']:.2f}", f"{al[k]['cpu']:.2f}",
                         f"{pp[k]['cpu'] - al[k]['cpu']:+.2f}",
                         f"{steps}; conf {pp[k]['confidence']:.1f}; " + "; ".join(extra)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--before", default="main", help="git ref of the baseline")
    ap.add_argument("--after", default="HEAD", help="git ref of the code measured against it")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--engine", default="tesseract", choices=("tesseract", "ppocr", "ppocr5"))
    ap.add_argument("--ppocr", action="store_true", help="also pipeline vs engine for ppocr")
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--vs-engine-only", action="store_true",
                    help="only figure 2 for --engine: this tree's pipeline vs the engine alone")
    ap.add_argument("--per-page", action="store_true",
                    help="with figure 2: the pipeline's steps against the engine alone, "
                         "page by page (an extra in-process pass of each)")
    # child modes
    ap.add_argument("--variant", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.variant is not None:
        res = run_variant(a.variant, a.root, a.concurrency, a.engine)
        a.result.write_text(json.dumps(res, ensure_ascii=False))
        return 0
    return compare(a)


def compare(a: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO))
    from dms.sample_data import generate_pages
    from ocr_worker.metrics import cer

    root = a.keep or Path(tempfile.mkdtemp(prefix="scanner-bench-"))
    cores = os.cpu_count() or 1
    load0 = os.getloadavg()
    print(f"generating {a.pages} pages (seed {a.seed}) in {root} ...", file=sys.stderr)
    truth_file = root / "pages" / "truth.json"
    entries = (json.loads(truth_file.read_text()) if truth_file.exists()
               else generate_pages(root / "pages", a.pages, seed=a.seed))
    truth = {e["file"]: e["text"] for e in entries}
    files = scanner_files(root / "pages", entries, root / "files")
    (root / "files.json").write_text(json.dumps(files))
    if a.vs_engine_only:
        vs_engine(a, root)
        return 0
    page_truth = {f"{f}#{n}": truth[p] for f, ps in files.items() for n, p in enumerate(ps, 1)}
    before_tree = export(a.before, root / "before-code")
    # The after code too is a snapshot (of --after, default HEAD): edits to the working
    # tree while the benchmark runs do not leak into it.
    trees = {"before": before_tree, "after": export(a.after, root / "after-code")}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for r in range(a.rounds):
        for name, tree in trees.items():
            print(f"round {r + 1}: {name} ({tree}) dms worker -c {a.concurrency} ...",
                  file=sys.stderr)
            runs[name].append(child(tree, "variant", str(root / "files"), "--root",
                                    str(root / f"run-{name}-{r}"), "--concurrency",
                                    str(a.concurrency), "--engine", a.engine,
                                    save=root / f"run-{name}-{r}.json"))
    steps = {name: child(tree, "steps", str(root / "files"), "--root",
                         str(root / f"steps-{name}"), "--engine", a.engine,
                         save=root / f"steps-{name}.json")
             for name, tree in trees.items()}
    load1 = os.getloadavg()
    n = runs["after"][0]["pages"]
    print(f"\nScanner benchmark: {len(files)} files, {n} pages (seed {a.seed}; "
          f"{', '.join(f[0] for f in FORMATS)}), languages {LANGS}, engine {a.engine}, "
          f"dms worker -c {a.concurrency}, {cores} cores; before = {a.before} "
          f"({before_tree}); load average before {load0[0]:.1f}, after {load1[0]:.1f}")
    results: dict[str, Any] = {"pages": n, "files": len(files), "rounds": a.rounds}
    row = "{:44}{:>12}{:>12}{:>9}  {}"
    print(row.format("", "before", "after", "ratio", "goal"))

    def med(name: str, f: Any) -> float:
        return statistics.median(f(x) for x in runs[name])

    for label, f, goal in (
            ("pages per CPU-minute (worker + pool)", lambda x: n / x["cpu"] * 60, ">= 1.5"),
            ("pages per wall minute", lambda x: n / x["seconds"] * 60, ">= 1.5"),
    ):
        b, af = med("before", f), med("after", f)
        print(row.format(label, f"{b:.2f}", f"{af:.2f}", f"{af / b:.2f}", goal))
        results[label] = {"before": b, "after": af}
    cers = {}
    per_page: dict[str, dict[str, float]] = {}
    for name in ("before", "after"):
        texts = runs[name][0]["texts"]
        per_page[name] = {k: cer(page_truth[k], texts.get(k, "")) for k in page_truth}
        cers[name] = sum(per_page[name].values()) / len(page_truth)
    print(row.format("CER (mean per page)", f"{cers['before']:.4f}", f"{cers['after']:.4f}",
                     f"{cers['after'] - cers['before']:+.4f}", "within +-0.005 (difference)"))
    # Paired by page: a single page's CER swings by up to 0.1 between two readings, so
    # the difference of two means over a few pages says little; the mean of the per-page
    # differences with its 95% interval says whether the change is more than noise.
    diffs = [per_page["after"][k] - per_page["before"][k] for k in page_truth]
    mean_d = statistics.fmean(diffs)
    half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    print(f"  CER change paired by page: {mean_d:+.4f}, 95% interval [{mean_d - half:+.4f}, "
          f"{mean_d + half:+.4f}]; pages better {sum(d < -1e-9 for d in diffs)}, worse "
          f"{sum(d > 1e-9 for d in diffs)}, same {sum(abs(d) <= 1e-9 for d in diffs)}")
    results["cer"] = cers
    results["cer_paired"] = {"mean": mean_d, "half_interval": half, "per_page": per_page}
    ratios = {name: runs[name][0]["stored"] / runs[name][0]["originals"] for name in runs}
    print(row.format("bytes stored beside originals / originals", f"{ratios['before']:.2f}",
                     f"{ratios['after']:.2f}", "", "after <= 0.3"))
    results["stored_ratio"] = ratios
    for name in runs:
        kinds = runs[name][0]["by_kind"]
        orig = runs[name][0]["originals"]
        print(f"  {name}: " + ", ".join(f"{k} {v / orig:.2f}" for k, v in sorted(kinds.items())
                                        if k != "originals") + f" (originals {orig / 1e6:.1f} MB)")
        if runs[name][0]["failed"]:
            print(f"  {name}: documents not done: {runs[name][0]['failed']}")
    print("\nCPU seconds per page by step, one in-process pass of the library over the same "
          "files (process + child CPU time):")
    names = list(dict.fromkeys([*steps["before"]["steps"], *steps["after"]["steps"]]))
    print(row.format("step", "before", "after", "", ""))
    for step in names:
        b = steps["before"]["steps"].get(step, 0.0) / steps["before"]["pages"]
        af = steps["after"]["steps"].get(step, 0.0) / steps["after"]["pages"]
        print(row.format(f"  {step}", f"{b:.3f}", f"{af:.3f}", "", ""))
    tb = sum(steps["before"]["steps"].values()) / steps["before"]["pages"]
    ta = sum(steps["after"]["steps"].values()) / steps["after"]["pages"]
    print(row.format("  total", f"{tb:.3f}", f"{ta:.3f}", f"{tb / ta:.2f}", ""))
    results["steps"] = steps

    # Figure 2: the pipeline against the engine alone on the after variant's page images
    # (here for tesseract: its CLI; a PP-OCR engine alone is --engine E --vs-engine-only).
    results["vs_engine"] = {}
    if a.engine == "tesseract":
        images = [(Path(p), d) for p, d in steps["after"]["images"]]
        wall, cpu = raw_tesseract(images, cores)
        raw_rate = len(images) / cpu * 60
        pipe_rate = med("after", lambda x: n / x["cpu"] * 60)
        print(f"\npipeline vs engine alone on the same {len(images)} page images "
              f"(pages per CPU-minute): tesseract CLI {raw_rate:.2f}, pipeline "
              f"({a.engine}) {pipe_rate:.2f}, ratio {pipe_rate / raw_rate:.2f} (goal >= 0.9)")
        results["vs_engine"] = {"tesseract_raw": raw_rate, "pipeline": pipe_rate}
    if a.ppocr:
        results["vs_engine"]["ppocr"] = vs_engine(
            argparse.Namespace(**{**vars(a), "engine": "ppocr"}), root)
    (root / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"\n(details in {root / 'results.json'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
