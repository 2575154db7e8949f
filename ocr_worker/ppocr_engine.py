"""PP-OCR (detection + text-direction classifier + recognition) on ONNX Runtime.

The models come inside the ``rapidocr-onnxruntime`` wheel (PP-OCRv4 Chinese detection and
recognition, the mobile v2 direction classifier), so nothing is downloaded at run time --
the workers may have no network at all. The recognition model reads Simplified and
Traditional Chinese, Latin letters and digits in one pass; ``languages`` is therefore
ignored.

One model set per worker process, loaded on first use (~0.5 s) and kept. ONNX Runtime's
intra- and inter-op thread pools are pinned to one thread: the worker runs one process per
core, and a thread pool per process would oversubscribe the cores (the lesson tesseract's
OpenMP taught, see :func:`ocr_worker.tools.tesseract_env`).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from errorkit import ConfigError, ExternalToolError, ExternalToolTimeout, MissingDependencyError
from ocr_worker.engine import EngineOutput, mean_confidence
from ocr_worker.reading_order import Piece, group_rows, order_text
from ocr_worker.results import BBox, Word
from ocr_worker.text_layer import build_page_pdf

PACKAGE = "rapidocr-onnxruntime"
PACKAGE_VERSION = "1.4.4"
# Install without its opencv-python requirement: dms already has opencv-python-headless,
# and two OpenCV wheels in one environment overwrite each other's cv2 module.
INSTALL_HINT = (
    f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION} onnxruntime pyclipper shapely six tqdm"
    " (scripts/install.sh does this)"
)
# In block layout (used to test page orientations) a box this much taller than wide is
# sideways text. PP-OCR would turn such a crop upright and read it well, which is exactly
# what an orientation test must not do.
_SIDEWAYS = 1.5
# Lines recognised with less confidence are dropped (RapidOCR's own default threshold).
TEXT_SCORE = 0.5


@functools.lru_cache(maxsize=1)
def load_model() -> Any:
    """The RapidOCR pipeline of this process, with single-threaded ONNX Runtime sessions."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise MissingDependencyError(
            f"OCR engine 'ppocr' needs the Python package {PACKAGE!r}, which is not installed"
            f" ({exc})",
            hint=INSTALL_HINT,
        ) from exc
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=True)


def session_threads(model: Any) -> list[tuple[int, int]]:
    """(intra, inter) op thread counts of the detector, classifier and recogniser."""
    sessions = (model.text_det.infer.session, model.text_cls.infer.session,
                model.text_rec.session.session)
    return [(s.get_session_options().intra_op_num_threads,
             s.get_session_options().inter_op_num_threads) for s in sessions]


def _bbox(quad: Any) -> BBox:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return (int(min(xs)), int(min(ys)), int(round(max(xs))), int(round(max(ys))))


def _line_words(line_no: int, item: list[Any]) -> list[Word]:
    """Words of one detected line: per character for Chinese, per word for Latin, as the
    recogniser's CTC alignment places them; the whole line as one word if that failed."""
    box, text, score = item[0], str(item[1]), float(item[2])
    if len(item) >= 6 and item[3] and len(item[3]) == len(item[4]) == len(item[5]):
        words = [
            Word(str(t), round(float(c) * 100, 2), _bbox(q), 0, line_no)
            for q, t, c in zip(item[3], item[4], item[5], strict=True)
            if str(t).strip()
        ]
        if "".join(w.text for w in words) == "".join(text.split()):
            return words
    return [Word(text, round(score * 100, 2), _bbox(box), 0, line_no)]


class PpOcrEngine:
    """PP-OCR behind the :class:`~ocr_worker.engine.OcrEngine` protocol."""

    name = "ppocr"

    def __init__(self, model_loader: Callable[[], Any] = load_model) -> None:
        self._model_loader = model_loader
        self._model_loader()  # fail now, with the package named, not on the first page

    def recognise(
        self, image: Path, *, languages: str, dpi: int, timeout: float, pdf: bool = False,
        layout: str = "auto",
    ) -> EngineOutput:
        if layout not in ("auto", "block"):
            raise ConfigError(f"unknown layout {layout!r} for ppocr")
        if timeout <= 0:
            raise ExternalToolTimeout("ppocr: no time left in the page budget")
        model = self._model_loader()
        started = time.monotonic()
        try:
            # The direction classifier turns upside-down lines; in block layout it is off
            # (and sideways lines dropped) so a wrongly oriented page reads badly.
            use_cls = layout == "auto"
            result, _ = model(str(image), use_cls=use_cls, return_word_box=True, text_score=0.0)
            items = list(result or [])
            if use_cls:
                items = _reread_failed_lines(model, image, items)
        except Exception as exc:  # onnxruntime and cv2 raise their own types
            raise ExternalToolError(f"ppocr failed on {image.name}: {exc}") from exc
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            # ONNX Runtime cannot be interrupted in-process (the task's hard time limit is
            # the backstop), but a page over its budget fails as it does with tesseract:
            # the same pages fail and are retried whichever engine reads them.
            raise ExternalToolTimeout(
                f"ppocr timed out after {timeout:.2f} s (took {elapsed:.2f} s)")
        items = [it for it in items if float(it[2]) >= TEXT_SCORE]
        if layout == "block":
            items = [it for it in items if not _is_sideways(_bbox(it[0]))]
        return self._output(image, items, dpi=dpi, pdf=pdf)

    def _output(self, image: Path, items: list[list[Any]], *, dpi: int,
                pdf: bool) -> EngineOutput:
        # Lines in reading order (rows top to bottom, cells left to right); their index is
        # the word's line id, so the text layer and the words JSON follow the same order.
        rows = group_rows(items, lambda it: _bbox(it[0]))
        ordered = [it for row in rows for it in row]
        words = [w for n, it in enumerate(ordered, 1) for w in _line_words(n, it)]
        text = order_text([Piece(str(it[1]), _bbox(it[0])) for it in ordered])
        pdf_path = None
        if pdf:
            pdf_path = build_page_pdf(image, words, image.with_name(image.stem + ".ppocr.pdf"),
                                      dpi=dpi)
        return EngineOutput(
            words=words,
            text=text,
            mean_confidence=round(mean_confidence(words), 2),
            pdf=pdf_path,
            raw={"lines": str(len(ordered))},
        )

    def searchable_page_pdf(
        self, image: Path, *, languages: str, dpi: int, timeout: float
    ) -> Path:
        out = self.recognise(image, languages=languages, dpi=dpi, timeout=timeout, pdf=True)
        assert out.pdf is not None
        return out.pdf


def _reread_failed_lines(model: Any, image: Path, items: list[list[Any]]) -> list[list[Any]]:
    """Lines the recogniser failed on, read again as they stand, without the direction
    classifier. The page is already upright (the orientation step), but the classifier
    now and then turns a long upright line upside down, and the recogniser then returns
    nothing for it (seen: a contract's whole 有效期 line lost, score 0.0 -- and with it the
    contract's end date). Cheap: one recognition of one crop, for the few failed lines."""
    failed = [i for i, it in enumerate(items) if float(it[2]) < TEXT_SCORE]
    if not failed:
        return items
    import cv2

    page = cv2.imread(str(image))
    if page is None:
        return items
    out = list(items)
    for i in failed:
        x0, y0, x1, y1 = _bbox(items[i][0])
        crop = page[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
        if crop.size == 0:
            continue
        again, _ = model(crop, use_det=False, use_cls=False)
        if again and float(again[0][1]) > float(items[i][2]):
            out[i] = [items[i][0], str(again[0][0]), float(again[0][1])]  # no word boxes
    return out


def _is_sideways(b: BBox) -> bool:
    return (b[3] - b[1]) >= _SIDEWAYS * max(1, b[2] - b[0])
