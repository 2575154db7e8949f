"""Worker start-up hooks: load once what every page would otherwise load on its own.

Imported by the task modules (which only worker processes load), so that the web and
the CLI, which only send tasks, never load the OCR engines.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from celery.signals import worker_init, worker_process_init

from sqlalchemy.orm import configure_mappers

from dms.errors import DmsError
from dms.services.classification import rules_for
from dms.worker.task import services_for
from ocr_worker import tesseract_api
from ocr_worker.engine import TesseractEngine
from ocr_worker.han_script import preload
from ocr_worker.line_direction import DIRECTION_MODELS
from ocr_worker.page_script import SCRIPT_LANGUAGES, languages_for
from ocr_worker.ppocr_models import ENGINE_MODELS, load_model, warm_up
from ocr_worker.orientation_steps import ORIENT_AUTO, ORIENT_READ_BY
from ocr_worker.text_layer import text_font
from ocr_worker.threads import one_thread_per_process

log = logging.getLogger(__name__)


@worker_init.connect
def _load_page_tools(sender: Any = None, **_: Any) -> None:
    """Load, once in the worker's main process, what every pool process would otherwise
    load on its first page: the text-layer font (~1 s to parse) and OpenCC's tables. The
    pool processes are forked from it with them in memory. (Tesseract's models are loaded
    in each pool process: library handles must not cross a fork.)"""
    text_font()
    app = getattr(sender, "app", None)
    settings = getattr(app, "dms_settings", None)
    preload(settings.ocr_traditional_variant if settings is not None else "s2t")


@worker_process_init.connect
def _build_services(**_: Any) -> None:
    """Each pool process builds its services (database engine, object store, index,
    checklist, classification rules) and configures the ORM's mappers before taking work,
    not in its first tasks: py-spy over scanner_bench's worker found 0.5 s of first-use
    imports, mapper set-up and checklist parsing in the first tasks of its two pool
    processes, and then (services built) 0.3 s of YAML parsing (the checklist, the rules)
    and the search backend's import in their first finalize. Connected before the engine
    hooks below: their log line tells the benchmark that page work starts."""
    if getattr(current_app, "dms_settings", None) is None:
        return
    try:
        services = services_for(current_app)
        configure_mappers()
        rules_for(services)  # parses the checklist too
        services.index  # noqa: B018 -- opened (imported, schema built) now, not on first use
    except DmsError as exc:  # the first task reports it, with its hint
        log.warning("services not built at start: %s", exc)


# Written once a pool process has its tesseract models (and, where pages are oriented by
# direction votes, the PP-OCR direction classifier): from then on its CPU goes to pages
# (benchmarks/scanner_bench.py starts its clock after it).
TESSERACT_LOADED = "tesseract models loaded"


@worker_process_init.connect
def _one_thread(**_: Any) -> None:
    """A pool process is one of a worker's processes per core: OpenCV's thread pool
    would make it compete with its siblings (ocr_worker/threads.py)."""
    one_thread_per_process()


@worker_process_init.connect
def _load_tesseract(**_: Any) -> None:
    """Each pool process loads the tesseract models it will use before taking pages (0.6 s,
    once per process, not on the first page), and the direction classifier that orients
    the pages tesseract reads (0.35 s, else paid by its first page). Celery logs "ready"
    before its pool processes have run this: measured, 2.8 CPU s of a 2-process worker
    came after it."""
    settings = getattr(current_app, "dms_settings", None)
    if settings is None:
        return
    engine = TesseractEngine()
    wanted = []
    crops = settings.ocr_orientation_engine == "tesseract" or (
        settings.ocr_orientation_engine == "auto" and settings.ocr_engine == "tesseract")
    if crops:  # crops: first language, one block
        wanted.append((settings.ocr_languages.split("+")[0], engine.psm_for("block")))
    if settings.ocr_engine == "tesseract":
        # the deployment's languages, and each Han script's alone (ocr_worker/page_script.py)
        for script in (None, *SCRIPT_LANGUAGES):
            languages = languages_for(settings.ocr_languages, script)
            if (languages, engine.psm_for("auto")) not in wanted:
                wanted.append((languages, engine.psm_for("auto")))
    for languages, psm in wanted:
        try:
            tesseract_api.load_models(languages, psm)
        except DmsError as exc:  # the first page reports it, with its hint, as a page error
            log.warning("tesseract %s not loaded: %s", languages, exc)
            return
    # The direction classifier votes on a tesseract page's orientation, and its set's
    # recogniser tells the page's script (ocr_worker/page_script.py).
    samples_script = languages_for(settings.ocr_languages, "simplified") != settings.ocr_languages
    if settings.ocr_engine == ORIENT_READ_BY and (
            settings.ocr_orientation_engine == ORIENT_AUTO or samples_script):
        try:
            load_model(DIRECTION_MODELS)
        except DmsError as exc:  # the first page reports it, with its hint, as a page error
            log.warning("PP-OCR direction classifier not loaded: %s", exc)
            return
    if wanted:
        log.info("%s (%s)", TESSERACT_LOADED, settings.ocr_languages)


# Written once a pool process has its PP-OCR models: from then on its CPU goes to pages
# (benchmarks/scanner_bench.py starts its clock after it).
PPOCR_LOADED = "PP-OCR models loaded"


@worker_process_init.connect
def _load_ppocr(**_: Any) -> None:
    """Each pool process loads the PP-OCR models of the deployment's engine before taking
    pages (0.5-1 s of CPU once per process, not on its first page). ONNX Runtime sessions
    must not cross a fork, so this runs in the pool process, not the main one."""
    settings = getattr(current_app, "dms_settings", None)
    models = ENGINE_MODELS.get(settings.ocr_engine) if settings is not None else None
    if models is None:
        return
    try:
        warm_up(models)  # loaded, and the detector's first (costliest) run done
    except DmsError as exc:  # the first page reports it, with its hint, as a page error
        log.warning("PP-OCR %s not loaded: %s", models, exc)
        return
    log.info("%s (%s)", PPOCR_LOADED, models)
