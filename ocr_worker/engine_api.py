"""What an OCR engine is to the rest of the library: the protocol it meets, what a reading
returns, and the helpers every engine's output uses. Beneath the engines
(:mod:`ocr_worker.engine` for tesseract, :mod:`ocr_worker.ppocr_engine`) and their registry
(:mod:`ocr_worker.engines`), so none of them imports another to get these.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from hanzi.ranges import WRITTEN_WITHOUT_SPACES, python_class
from ocr_worker.results import Word

# Han, CJK punctuation, kana, hangul, full-width forms: characters written without spaces.
_CJK = re.compile(f"[{python_class(WRITTEN_WITHOUT_SPACES)}]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


@dataclass
class EngineOutput:
    words: list[Word]
    text: str  # reading order; lines joined with "\n", blocks with a blank line
    mean_confidence: float  # character-weighted mean of word confidences, 0..100
    pdf: Path | None = None  # single-page image + invisible-text PDF when requested
    raw: dict[str, str] = field(default_factory=dict)  # engine-specific extras


@runtime_checkable
class OcrEngine(Protocol):
    name: str

    def recognise(
        self,
        image: Path,
        *,
        languages: str,
        dpi: int,
        timeout: float,
        pdf: bool = False,
        layout: str = "auto",
        under: Path | None = None,
    ) -> EngineOutput:
        """Words, text and confidence of ``image``; with ``pdf=True`` also the page PDF
        (engines that can do both in one pass should, it halves the cost). The page PDF
        is ``image``'s size; it shows ``under`` if given (the scan as stored, where
        ``image`` is a work copy the caller then places itself: ``pdf_image.replace_scan``),
        else ``image``.

        ``layout="auto"`` analyses the page layout; ``"block"`` assumes one block of
        horizontal lines -- used to test orientations, where "auto" would happily read
        sideways text as vertical Chinese and report a high confidence."""
        ...

    def searchable_page_pdf(
        self, image: Path, *, languages: str, dpi: int, timeout: float
    ) -> Path:
        """A one-page PDF showing ``image`` with the recognised text invisible on top."""
        ...


def mean_confidence(words: list[Word]) -> float:
    chars = sum(len(w.text) for w in words)
    if not chars:
        return 0.0
    return sum(w.conf * len(w.text) for w in words) / chars
