"""Child of ``scanner_bench.py``: one in-process pass of the OCR library of the code on
PYTHONPATH over scanner files, with the CPU time of every stage (this process and the
tools it runs: pdftoppm, tesseract OSD). Not meant to be run by hand.

Stages: rasterise (the split task's work), each page step of ``PAGE_STEPS`` (normalise,
clean, detect_orientation, deskew, recognise -- OCR and the page's text layer in one
engine pass --, harmonise_script), and assemble (the searchable PDF). With
``--engine-only`` the pages are rasterised and read by the engine alone (no steps).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dms.settings import load_settings
from ocr_worker import ppocr_engine
from ocr_worker import rasterise as rz
try:  # the engines' registry has had its own module since its import circle was broken
    from ocr_worker.engines import get_engine
except ImportError:  # a baseline tree (--before) from before that
    from ocr_worker.engine import get_engine  # type: ignore[attr-defined,no-redef]
from ocr_worker.pdf_assembly import assemble_searchable_pdf
from ocr_worker.pipeline import PAGE_STEPS, make_context, process_page

LANGS = "chi_sim+chi_tra+eng"


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(step: Any, totals: dict[str, float]) -> Callable[..., Any]:
    def run(src: Path, ctx: Any) -> Path:
        c0 = cpu()
        try:
            out: Path = step(src, ctx)
            return out
        finally:
            totals[step.__name__] = totals.get(step.__name__, 0.0) + cpu() - c0

    run.__name__ = step.__name__
    return run


def pages_of(src: Path, out: Path, settings: Any) -> list[tuple[Path, int | None]]:
    limits = {"dpi": settings.ocr_dpi, "max_pages": 100, "max_pixels": 200_000_000,
              "timeout": 600.0}
    if hasattr(rz, "rasterise_pages"):  # after: each page with its own DPI
        return [(p.path, p.dpi) for p in rz.rasterise_pages(src, out, **limits)]
    return [(p, None) for p in rz.rasterise(src, out, **limits)]


def _ppocr_models() -> Any:
    """The module of the PP-OCR model sets: ``ppocr_models`` since ``ppocr_engine.py`` was
    split, ``ppocr_engine`` in an older tree ("before")."""
    if hasattr(ppocr_engine, "MODEL_SETS"):
        return ppocr_engine
    return importlib.import_module("ocr_worker.ppocr_models")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=Path, required=True)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--engine", default="tesseract")
    ap.add_argument("--engine-only", action="store_true")
    a = ap.parse_args()
    settings = load_settings(_env_file=None, data_dir=a.root / "var", ocr_languages=LANGS,
                             ocr_engine=a.engine)
    totals: dict[str, float] = {}
    steps = [timed(s, totals) for s in PAGE_STEPS]
    images: list[tuple[str, int]] = []
    texts: dict[str, str] = {}  # "<file>#<page>" -> text, for the CER of this pass
    # "<file>#<page>" -> CPU seconds of the page (engine or steps) and what the steps
    # noted (orientation, re-reads), to compare a pipeline pass with an engine-alone pass
    # page by page.
    per_page: dict[str, dict[str, Any]] = {}
    kept = a.root / "images"
    kept.mkdir(parents=True, exist_ok=True)
    n = 0
    # A worker's pool process runs OpenCV on one thread (dms/worker/preload.py), as every
    # pass here does, pipeline and engine alone alike (a tree that has the setting).
    if importlib.util.find_spec("ocr_worker.threads") is not None:
        importlib.import_module("ocr_worker.threads").one_thread_per_process()
    engine = get_engine(a.engine)
    # Once-per-process costs are not page work, on either side: a worker's pool process
    # loads and warms its PP-OCR models before taking pages (dms/worker/preload.py).
    ppocr_models = _ppocr_models()
    models = ppocr_models.ENGINE_MODELS.get(a.engine)
    if models and hasattr(ppocr_models, "warm_up"):
        ppocr_models.warm_up(models)
    # ... and its tesseract models (0.6 s; charged to the first page, they made the engine
    # alone look 0.04 s a page dearer on 16 pages) ...
    api = importlib.util.find_spec("ocr_worker.tesseract_api")
    if a.engine == "tesseract" and api is not None:
        tess = importlib.import_module("ocr_worker.tesseract_api")
        if hasattr(tess, "load_models"):
            tess.load_models(LANGS, engine.psm_for("auto"))
            if not a.engine_only:  # and, as dms/worker/preload.py, the crop reads' model
                tess.load_models(LANGS.split("+")[0], engine.psm_for("block"))
                # ... and each Han script's alone (a tree with ocr_worker/page_script.py)
                try:
                    script = importlib.import_module("ocr_worker.page_script")
                except ImportError:  # an older tree (this checkout's module on the path
                    script = None    # does not fit its ocr_worker)
                if script is not None:
                    for name in script.SCRIPT_LANGUAGES:
                        tess.load_models(script.languages_for(LANGS, name),
                                         engine.psm_for("auto"))
    # ... and the direction classifier that orients its pages (a tree with
    # ocr_worker/line_direction.py).
    direction = importlib.util.find_spec("ocr_worker.line_direction")
    if a.engine == "tesseract" and not a.engine_only and direction is not None:
        ppocr_models.load_model(importlib.import_module(
            "ocr_worker.line_direction").DIRECTION_MODELS)
    for f in sorted(a.steps.iterdir()):
        work = a.root / "work" / f.stem
        c0 = cpu()
        pages = pages_of(f, work / "pages", settings)
        totals["rasterise"] = totals.get("rasterise", 0.0) + cpu() - c0
        pdfs = []
        for i, (img, dpi) in enumerate(pages, 1):
            n += 1
            keep = kept / f"{f.stem}-{i}{img.suffix}"
            shutil.copyfile(img, keep)
            images.append((str(keep), dpi or settings.ocr_dpi))
            if a.engine_only:
                c0 = cpu()
                out = engine.recognise(img, languages=LANGS, dpi=dpi or settings.ocr_dpi,
                                       timeout=600.0)
                totals["engine"] = totals.get("engine", 0.0) + cpu() - c0
                texts[f"{f.name}#{i}"] = out.text
                per_page[f"{f.name}#{i}"] = {"cpu": cpu() - c0,
                                             "confidence": out.mean_confidence}
                continue
            ctx = make_context(img, settings, page_no=i, work_dir=work / f"steps-{i}")
            if dpi is not None:
                ctx.dpi, ctx.dpi_known = dpi, True
            before = dict(totals)
            result = process_page(img, ctx, settings, steps=steps)
            pdfs.append(result.page_pdf)
            texts[f"{f.name}#{i}"] = result.text
            page_steps = {k: round(v - before.get(k, 0.0), 3) for k, v in totals.items()
                          if k != "rasterise" and v - before.get(k, 0.0) > 0}
            per_page[f"{f.name}#{i}"] = {
                "cpu": sum(page_steps.values()), "steps": page_steps,
                "confidence": result.mean_confidence,
                "notes": {k: result.notes.get(k) for k in (
                    "orientation", "fallback", "quality") if k in result.notes},
                "detection": (ctx.output.raw.get("detection") if ctx.output else None)}
        if pdfs:
            c0 = cpu()
            assemble_searchable_pdf(pdfs, work / "searchable.pdf")
            totals["assemble"] = totals.get("assemble", 0.0) + cpu() - c0
        shutil.rmtree(work, ignore_errors=True)
    a.result.write_text(json.dumps({"pages": n, "steps": totals, "images": images,
                                    "cpu": sum(totals.values()), "texts": texts,
                                    "per_page": per_page},
                                   ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
