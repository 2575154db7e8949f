"""Tesseract in the worker process (libtesseract through tesserocr), loaded once per process.

Why not the CLI for every page: each ``tesseract`` run loads its models again (0.4 s of
CPU for chi_sim+chi_tra+eng, 0.2 s for chi_sim alone), and the orientation step reads
up to four small crops per page, each a new process. In a worker that reads thousands of
pages the models stay loaded; a crop read drops from ~0.45 s to ~0.2 s of CPU.

The library is the same libtesseract the ``tesseract`` CLI uses: ``scripts/install.sh``
builds tesserocr from source against Debian's ``libtesseract-dev``, so the CLI (still used
for OSD) and this module run the same version on the same traineddata.

Errors keep the contract of :mod:`ocr_worker.tools`: a run that exceeds its time budget
raises :class:`ExternalToolTimeout` (tesseract's own cancel hook stops it; layout analysis
may overrun the budget by a fraction of a second, the task's hard time limit backs that
up), any other failure :class:`ExternalToolError`. A crash of the library takes the worker
process down; Celery redelivers the page (``task_reject_on_worker_lost``) and the claim
marks it failed after ``ocr_max_retries`` lost workers (``dms.services.ocr_flow``).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from errorkit import ExternalToolError, ExternalToolTimeout, MissingDependencyError

# One loaded model set per (languages, page segmentation mode); a worker needs two: the
# page languages for recognition and the first language alone for orientation crops.
_APIS: dict[tuple[str, int], Any] = {}
_LOCK = threading.Lock()  # tesserocr's API object is not thread-safe; a worker is one thread


def _tesserocr() -> Any:
    # Single-threaded tesseract: its OpenMP threads fight our one-worker-per-core pool.
    # libgomp reads this once, when the library loads, so it is set before the import.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
    except ImportError as exc:
        raise MissingDependencyError(
            "the Python package tesserocr is not installed",
            hint="scripts/install.sh (it builds tesserocr against libtesseract-dev)",
        ) from exc
    return tesserocr


def _api(languages: str, psm: int) -> Any:
    key = (languages, psm)
    api = _APIS.get(key)
    if api is None:
        tesserocr = _tesserocr()
        try:
            api = tesserocr.PyTessBaseAPI(lang=languages, psm=psm)
        except RuntimeError as exc:
            raise ExternalToolError(f"tesseract could not load {languages}: {exc}") from exc
        _APIS[key] = api
    return api


def _timeout_ms(timeout: float, what: str) -> int:
    if timeout <= 0:
        raise ExternalToolTimeout(f"tesseract: no time left in the page budget ({what})")
    return max(1, int(timeout * 1000))


def read_tsv(
    image: Path, *, languages: str, dpi: int, psm: int, timeout: float,
    pdf_base: Path | None = None, try_inverted: bool = True,
) -> str:
    """Recognise ``image``; return tesseract's TSV (words, boxes, confidences). With
    ``pdf_base`` also write ``<pdf_base>.pdf``, tesseract's invisible text layer of the
    page in the same recognition pass, *without* the image (``textonly_pdf``): the caller
    puts the image under it as stored (``ocr_worker/pdf_image.py``), where tesseract would
    decode and compress it again.

    ``try_inverted=False`` stops tesseract from reading every poorly recognised line a
    second time as white-on-black: right for orientation crops, whose wrong turns are
    poor by design (measured: 40% less CPU on sideways and upside-down crops, the same
    confidences)."""
    budget_ms = _timeout_ms(timeout, image.name)
    with _LOCK:
        api = _api(languages, psm)
        api.SetVariable("tessedit_create_pdf", "1" if pdf_base is not None else "0")
        api.SetVariable("textonly_pdf", "1")
        api.SetVariable("user_defined_dpi", str(int(dpi)))  # its guess is often wrong
        api.SetVariable("tessedit_do_invert", "1" if try_inverted else "0")
        t0 = time.monotonic()
        try:
            if pdf_base is not None:
                # The document-level call: the PDF renderer needs its begin/end around the
                # page, which the single-page call (ProcessPage) leaves out.
                ok = api.ProcessPages(str(pdf_base), str(image), None, budget_ms)
            else:
                api.SetImageFile(str(image))
                ok = api.Recognize(budget_ms)
        except RuntimeError as exc:
            api.Clear()
            raise ExternalToolError(f"tesseract failed on {image.name}: {exc}") from exc
        elapsed = time.monotonic() - t0
        if not ok:
            api.Clear()
            if elapsed * 1000 >= budget_ms * 0.9:
                raise ExternalToolTimeout(f"tesseract timed out after {timeout:.2f} s")
            raise ExternalToolError(f"tesseract could not recognise {image.name}")
        tsv: str = api.GetTSVText(0)
        api.Clear()  # drop the page's results and image; the models stay loaded
    if pdf_base is not None and not pdf_base.with_name(pdf_base.name + ".pdf").exists():
        raise ExternalToolError(f"tesseract wrote no PDF for {image.name}")
    return _with_header(tsv)


# The CLI's TSV starts with a header row; the API returns the rows alone.
_TSV_HEADER = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\t"
               "height\tconf\ttext\n")


def _with_header(rows: str) -> str:
    return rows if rows.startswith("level\t") else _TSV_HEADER + rows


def load_models(languages: str, psm: int) -> None:
    """Load a model set now (a worker process does at start what its first page would)."""
    with _LOCK:
        _api(languages, psm)


def loaded_model_sets() -> list[tuple[str, int]]:
    """What this process holds in memory (for diagnostics and tests)."""
    return sorted(_APIS)
