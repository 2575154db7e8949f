"""What a pool process loads before its first page (dms/worker/preload.py)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import _state as celery_state

from dms.services import classification
from dms.settings import load_settings
from dms.worker import preload, task
from dms.worker.celery_app import make_celery
from ocr_worker import ppocr_models, tesseract_api
from ocr_worker.line_direction import DIRECTION_MODELS


def _pool_process_init(tmp_path: Path, **overrides: str) -> None:
    settings = load_settings(data_dir=tmp_path / "var", secret_key="test" * 8,
                             station_token="tok-123456", _env_file=None, **overrides)
    before = celery_state.get_current_app()
    make_celery(settings).set_current()
    try:
        preload._load_tesseract()
    finally:  # other tests' apps must not find this one current
        before.set_current()


@pytest.mark.parametrize(("orientation", "languages", "direction_set"), [
    ("auto", "chi_sim+eng", True), ("tesseract", "chi_sim+eng", False),
    ("tesseract", "chi_sim+chi_tra+eng", True)])
def test_a_tesseract_worker_loads_what_orients_its_pages(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, orientation: str, languages: str,
        direction_set: bool) -> None:
    """Under ``auto`` the pages tesseract reads are oriented by the direction classifier's
    votes: the pool process loads it with tesseract's models, and says so once both are
    in (the scanner benchmark starts its clock at that line). A deployment that reads
    both Han scripts needs the same set's recogniser to tell a page's script, and each
    script's tesseract models alone (ocr_worker/page_script.py)."""
    ppocr_models.load_model.cache_clear()
    caplog.set_level(logging.INFO, logger=preload.__name__)
    _pool_process_init(tmp_path, ocr_engine="tesseract", ocr_orientation_engine=orientation,
                       ocr_languages=languages)
    loaded = ppocr_models.load_model.cache_info().currsize
    assert loaded == (1 if direction_set else 0)
    sets = {langs for langs, _ in tesseract_api.loaded_model_sets()}
    assert languages in sets
    if "chi_tra" in languages:
        assert {"chi_sim+eng", "chi_tra+eng"} <= sets
    if direction_set:
        assert ppocr_models.load_model(DIRECTION_MODELS) is not None
        assert ppocr_models.load_model.cache_info().hits >= 1
    assert [r.getMessage() for r in caplog.records
            if preload.TESSERACT_LOADED in r.getMessage()]


def test_a_ppocr_worker_loads_no_direction_model_for_tesseract(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A PP-OCR deployment's pages are oriented from its own detection: the tesseract hook
    loads nothing of its own and does not claim to have."""
    ppocr_models.load_model.cache_clear()
    caplog.set_level(logging.INFO, logger=preload.__name__)
    _pool_process_init(tmp_path, ocr_engine="ppocr5", ocr_orientation_engine="auto")
    assert ppocr_models.load_model.cache_info().currsize == 0
    assert not [r for r in caplog.records if preload.TESSERACT_LOADED in r.getMessage()]


def test_a_pool_process_runs_opencv_on_one_thread() -> None:
    """One worker process per core: OpenCV's own thread pool (as many threads as cores)
    would make sibling processes queue behind each other (ocr_worker/threads.py). The
    signal runs in a child interpreter: the setting is per process."""
    code = ("import cv2; from celery.signals import worker_process_init; "
            "import dms.worker.preload; before = cv2.getNumThreads(); "
            "worker_process_init.send(sender=None); print(before, cv2.getNumThreads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    before, after = int(out[-2]), int(out[-1])
    assert after == 1
    if (os.cpu_count() or 1) > 1:
        assert before > 1  # else this test would pass without the hook


def test_a_pool_process_builds_its_services_before_its_first_task(tmp_path: Path) -> None:
    """The checklist, the classification rules and the search index are read and opened
    at start: py-spy found their YAML parsing and the index backend's import in the first
    finalize of each pool process."""
    settings = load_settings(data_dir=tmp_path / "var", secret_key="test" * 8,
                             station_token="tok-123456", _env_file=None)
    before = celery_state.get_current_app()
    make_celery(settings).set_current()
    classification._rules.cache_clear()
    try:
        preload._build_services()
        services = task._services.pop(os.getpid())
    finally:
        before.set_current()
    try:
        assert {"checklist", "index"} <= set(vars(services))
        assert classification._rules.cache_info().currsize == 1
        classification.rules_for(services)
        assert classification._rules.cache_info().hits == 1
    finally:
        services.close()
