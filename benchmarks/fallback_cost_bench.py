"""What the fallback chain (ocr_worker/fallback.py, the read_again step) costs on the
project's normal generated scans, where pages are read well: the default pipeline with
and without the step, same pages, same process, one thread (as a worker core).

Goal: clean pages pay nothing -- no page of the normal corpus read again, CPU per page
within 2% of the pipeline without the step.

Usage:  .venv/bin/python benchmarks/fallback_cost_bench.py [--pages 10] [--seed 11]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from dms.sample_data import generate_pages  # noqa: E402
from dms.settings import load_settings  # noqa: E402
from ocr_worker.fallback_step import read_again  # noqa: E402
from ocr_worker.metrics import cer  # noqa: E402
from ocr_worker.pipeline import PAGE_STEPS, make_context, process_page  # noqa: E402


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pages", type=int, default=10)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--cache-dir", type=Path, default=REPO / "var" / "bench-fallback")
    a = p.parse_args(argv)
    pages = a.cache_dir / f"pages-n{a.pages}-s{a.seed}"
    if not (pages / "truth.json").exists():
        generate_pages(pages, a.pages, seed=a.seed, traditional_share=0.1)
    truth = json.loads((pages / "truth.json").read_text(encoding="utf-8"))
    settings = load_settings(data_dir=a.cache_dir / "var")
    without = tuple(s for s in PAGE_STEPS if s is not read_again)
    variants = {"without read_again": without, "with read_again": PAGE_STEPS}
    cpu = {name: 0.0 for name in variants}
    cers: dict[str, list[float]] = {name: [] for name in variants}
    reread = step_s = 0.0
    work = a.cache_dir / f"run-{int(time.time())}"
    # Interleaved per page, so a neighbour's load on the machine falls on both variants.
    for n, entry in enumerate(truth, 1):
        image = pages / entry["file"]
        for name, steps in variants.items():
            ctx = make_context(image, settings, page_no=n, work_dir=work / name / image.stem)
            t0 = _cpu()
            r = process_page(image, ctx, settings, steps=steps)
            cpu[name] += _cpu() - t0
            cers[name].append(cer(entry["text"], r.text))
            if steps is PAGE_STEPS:
                reread += bool(r.notes.get("fallback"))
                step_s += r.timings.get("read_again", 0.0)
    n = len(truth)
    base, with_ = cpu["without read_again"] / n, cpu["with read_again"] / n
    print(f"{n} pages of the normal corpus (seed {a.seed}), engine {settings.ocr_engine}")
    for name in variants:
        print(f"  {name:<20} CPU s per page {cpu[name] / n:6.2f}   mean CER "
              f"{statistics.mean(cers[name]):.3f}")
    print(f"  ratio with/without: {with_ / base:.3f} (goal <= 1.02); pages read again: "
          f"{int(reread)} (goal 0); read_again step {step_s / n:.3f} s per page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
