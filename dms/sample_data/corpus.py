"""Whole scanner-station corpora with ground truth, and page sets for OCR benchmarks.

Planning (every random choice) happens in the calling process from one seeded
``random.Random``; rendering runs in worker processes. So the output depends on the
seed only, never on the number of workers or the order they finish in.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import random
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dms.sample_data.document import render_document
from dms.sample_data.forms import CHANGE_TYPES, BusinessInfo
from dms.sample_data.hard import generate_hard_pages
from dms.sample_data.identity import CustomerProfile, contract_no, make_customer
from dms.sample_data.output import EXT, MULTI_PAGE, save_document

TRUTH_DIR = ".truth"
TRUTH_FILE = "ground_truth.json"
_FORMAT_WEIGHT = {"pdf": 4, "tiff": 2, "jpeg": 2.5, "png": 1.5}


@lru_cache(maxsize=1)
def load_checklist() -> dict[str, Any]:
    import yaml

    from dms.settings import DEFAULT_CONFIG_DIR

    with open(DEFAULT_CONFIG_DIR / "checklists.yaml", encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


@dataclass
class FileTruth:
    path: str  # relative to the corpus root, POSIX separators
    customer_no: str
    business_no: str
    business_type: str
    business_type_name: str
    doc_type: str
    format: str
    script: str
    pages: list[dict[str, Any]]
    fields: dict[str, str]


@dataclass
class CorpusManifest:
    root: Path
    seed: int
    files: list[FileTruth] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def truth_path(self) -> Path:
        return self.root / TRUTH_DIR / TRUTH_FILE

    def to_dict(self) -> dict[str, Any]:
        return {"generator": "dms.sample_data", "seed": self.seed, "customers": self.customers,
                "files": [dataclasses.asdict(f) for f in self.files]}

    def by_path(self) -> dict[str, FileTruth]:
        return {f.path: f for f in self.files}


@dataclass
class _Job:
    rel_stem: str  # path without extension
    doc_type: str
    seed: int
    script: str
    customer: CustomerProfile
    business: BusinessInfo
    rotation: int
    skew: float
    fmt: str
    formats: tuple[str, ...]
    noise: str
    page: int | None = None  # generate_pages: keep only this page (index, modulo count)


def customer_summary(c: CustomerProfile) -> dict[str, Any]:
    d = dataclasses.asdict(c)
    d["account_name"] = c.account_name
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in d.items()}


def _run(job: _Job, root: Path) -> list[FileTruth]:
    doc = render_document(job.doc_type, seed=job.seed, script=job.script, customer=job.customer,
                          rotation=job.rotation, skew=job.skew, noise=job.noise,
                          business=job.business)
    if job.page is not None:
        k = job.page % len(doc.pages)
        doc = dataclasses.replace(doc, pages=[doc.pages[k]], truth=[doc.truth[k]])
    fmt = job.fmt
    if len(doc.pages) > 1 and fmt not in MULTI_PAGE:
        multi = [f for f in job.formats if f in MULTI_PAGE]
        fmt = multi[0] if multi else fmt
    parts = [doc]
    if len(doc.pages) > 1 and fmt not in MULTI_PAGE:  # only single-page formats allowed
        parts = [dataclasses.replace(doc, pages=[p], truth=[t])
                 for p, t in zip(doc.pages, doc.truth, strict=True)]
    out = []
    for i, part in enumerate(parts):
        rel = job.rel_stem + (f"-{i + 1}" if len(parts) > 1 else "") + "." + EXT[fmt]
        save_document(part, root / rel, fmt)
        b = job.business
        out.append(FileTruth(rel, job.customer.customer_no, b.business_no, b.type_code,
                             b.type_name, job.doc_type, fmt, job.script,
                             [t.to_dict() for t in part.truth], dict(doc.fields)))
    return out


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; avoid oversubscription


def _execute(jobs: Sequence[_Job], root: Path, workers: int | None) -> list[FileTruth]:
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(jobs) < 4:
        return [f for j in jobs for f in _run(j, root)]
    # spawn, not fork: a forked child inherits OpenCV's busy thread pool half-locked and
    # can hang forever; spawning costs ~1 s of imports per worker
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        results = pool.map(_run, jobs, [root] * len(jobs), chunksize=1)
        return [f for res in results for f in res]


def _variation(r: random.Random, traditional: float, rotated: float, skewed: float
               ) -> tuple[str, int, float]:
    script = "traditional" if r.random() < traditional else "simplified"
    rotation = r.choice((90, 180, 270)) if r.random() < rotated else 0
    skew = round(r.choice((-1, 1)) * r.uniform(0.5, 4.0), 2) if r.random() < skewed else 0.0
    return script, rotation, skew


def _businesses(c: CustomerProfile, r: random.Random, names: dict[str, str]
                ) -> list[tuple[CustomerProfile, BusinessInfo]]:
    new = "HV_NEW" if c.capacity_kva >= 315 else "LV_NONRES_NEW" if c.company else "LV_RES_NEW"
    accept = c.contract_start - dt.timedelta(days=r.randint(20, 70))
    out = [(c, BusinessInfo(f"{accept:%y%m}{r.randint(0, 99_999_999):08d}", new, names[new],
                            accept))]
    if r.random() < 0.5:
        kinds = [k for k in CHANGE_TYPES if k in names and (c.company or k != "RENAME")]
        code = r.choice(kinds)
        accept = min(c.contract_start + dt.timedelta(days=r.randint(200, 1500)),
                     dt.date(2025, 6, 30))
        cap = {"CAP_INC": c.capacity_kva * 2, "CAP_DEC": max(c.capacity_kva // 2, 4)}.get(
            code, c.capacity_kva)
        start = accept + dt.timedelta(days=r.randint(10, 40))
        later = dataclasses.replace(
            c, capacity_kva=cap, contract_no=contract_no(r, c.prov_code, "GDHT", start.year),
            contract_start=start, contract_end=start.replace(year=start.year + 5, day=1)
            - dt.timedelta(days=1))
        out.append((later, BusinessInfo(f"{accept:%y%m}{r.randint(0, 99_999_999):08d}", code,
                                        names[code], accept, CHANGE_TYPES[code])))
    return out


def generate_corpus(out_dir: Path, *, customers: int = 6, seed: int = 1,
                    traditional_share: float = 0.1, rotated_share: float = 0.15,
                    skewed_share: float = 0.3,
                    formats: Iterable[str] = ("pdf", "tiff", "jpeg", "png"),
                    noise: str = "scanner", workers: int | None = None) -> CorpusManifest:
    """A scanner station's output folder:
    ``<customer_no>_<户名>/<business_no>_<业务类型>/<NN>_<doctype>.<ext>``, plus
    ``.truth/ground_truth.json`` (hidden, so ingest skips it)."""
    root = Path(out_dir)
    fmts = tuple(formats)
    if not fmts or any(f not in EXT for f in fmts):
        raise ValueError(f"formats must be a non-empty subset of {tuple(EXT)}")
    checklist = load_checklist()
    names = {k: v["name"] for k, v in checklist["business_types"].items()}
    r = random.Random(f"corpus/{seed}")
    manifest = CorpusManifest(root, seed)
    jobs: list[_Job] = []
    for i in range(customers):
        kind = ("resident", "company")[i % 2] if i < 2 else None  # both kinds, always
        c = make_customer(seed * 100_003 + i, kind)
        manifest.customers.append(customer_summary(c))
        for profile, b in _businesses(c, r, names):
            required = list(checklist["business_types"][b.type_code]["required"])
            if r.random() < 0.2:  # an agent applied: power of attorney (conditional)
                required.insert(required.index("SFZM") + 1, "SQWTS")
            folder = f"{c.customer_no}_{c.account_name}/{b.business_no}_{b.type_name}"
            for n, code in enumerate(required, start=1):
                script, rot, skew = _variation(r, traditional_share, rotated_share,
                                               skewed_share)
                fmt = r.choices(fmts, [_FORMAT_WEIGHT[f] for f in fmts])[0]
                jobs.append(_Job(f"{folder}/{n:02d}_{code}", code, r.randrange(2**31), script,
                                 profile, b, rot, skew, fmt, fmts, noise))
    manifest.files = _execute(jobs, root, workers)
    manifest.truth_path.parent.mkdir(parents=True, exist_ok=True)
    manifest.truth_path.write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return manifest


def generate_pages(out_dir: Path, n: int, *, seed: int = 1, traditional_share: float = 0.2,
                   rotated_share: float = 0.25, skewed_share: float = 0.5,
                   noise: str = "scanner", doc_types: Sequence[str] | None = None,
                   workers: int | None = None) -> list[dict[str, Any]]:
    """``n`` single-page PNGs (``page_0001.png``...) mixing document types, scripts,
    rotations and skews, and ``truth.json``: a list with one entry per image."""
    root = Path(out_dir)
    types = list(doc_types or load_checklist()["document_types"])
    r = random.Random(f"pages/{seed}")
    jobs = []
    for i in range(n):
        c = make_customer(seed * 1_000_003 + i)
        script, rot, skew = _variation(r, traditional_share, rotated_share, skewed_share)
        b = BusinessInfo(f"{c.contract_start:%y%m}{r.randint(0, 99_999_999):08d}", "LV_RES_NEW",
                         "低压居民新装", c.contract_start - dt.timedelta(days=30), "增容")
        jobs.append(_Job(f"page_{i + 1:04d}", types[i % len(types)], r.randrange(2**31), script,
                         c, b, rot, skew, "png", ("png",), noise, page=r.randrange(8)))
    files = _execute(jobs, root, workers)
    entries = [{"file": f.path, "doc_type": f.doc_type, "script": f.script,
                "fields": f.fields, **f.pages[0]} for f in files]
    root.mkdir(parents=True, exist_ok=True)
    (root / "truth.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return entries


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dms.sample_data",
                                description="Generate synthetic scanned customer archives.")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--customers", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pages", type=int, default=0,
                   help="instead of a corpus, write N single-page PNGs for OCR benchmarks")
    p.add_argument("--traditional-share", type=float, default=None)
    p.add_argument("--noise", default="scanner", choices=("none", "light", "scanner", "heavy"))
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--hard", action="store_true",
                   help="with --pages: the harder pages (faint bilevel, sparse, low dpi, "
                        "stamps, every turn; dms.sample_data.hard)")
    a = p.parse_args(argv)
    if a.pages and a.hard:
        entries = generate_hard_pages(a.out_dir, a.pages, seed=a.seed)
        print(f"wrote {len(entries)} hard pages and truth.json to {a.out_dir}")
        return 0
    if a.pages:
        entries = generate_pages(a.out_dir, a.pages, seed=a.seed, noise=a.noise,
                                 workers=a.workers, traditional_share=(
                                     0.2 if a.traditional_share is None else a.traditional_share))
        print(f"wrote {len(entries)} pages and truth.json to {a.out_dir}")
        return 0
    m = generate_corpus(a.out_dir, customers=a.customers, seed=a.seed, noise=a.noise,
                        workers=a.workers, traditional_share=(
                            0.1 if a.traditional_share is None else a.traditional_share))
    pages = sum(len(f.pages) for f in m.files)
    print(f"wrote {len(m.files)} files ({pages} pages) for {a.customers} customers; "
          f"ground truth: {m.truth_path}")
    return 0
