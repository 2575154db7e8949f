"""The text lines PP-OCR's recogniser reads: each cut-out line with its paper made white.

PP-OCRv5's recogniser drops characters from lines on grey, grainy paper, and does it with
confidence 0.99: on a JPEG-compressed contract (quality 13, 300 dpi, Song typeface) it
read 供电人和用电人在电力供应与使用中 as 供电和电在电供应与使中 -- every 人, 一, 用, 力
and 方 of the page gone (13 of 13 人), while the same line read with the paper above or
below it, or binarised, came out whole. The simple characters (人 一 十 力 方 用 日 月)
were the 140 commonest errors of the hard corpus. Setting the paper of each line (the
pixels above the line's own Otsu threshold) to white, and leaving the ink's greys as they
are, is what it reads best:

    ``benchmarks/ocr_engines_bench.py --corpus hard --pages 18 --seed 11 --no-judges
    --engines ppocr5 --orientation-engine auto`` (pages with ink, mean / median CER):
    as cut 0.104 / 0.064, Traditional 0.085; binarised (Otsu) 0.099 / 0.032, faint
    bilevel pages worse (0.158 -> 0.202); paper white 0.078 / 0.027, Traditional 0.048,
    faint bilevel unchanged. Seed 23 (8 of 17 pages faint bilevel): 0.125 -> 0.122.

A line whose paper is white already (a bilevel scan, a scanner that clips its paper to
white; all lines of a bilevel page the pipeline blurred: :func:`read_as_cut`) is read as
cut: cleaning the greys a deskew or despeckle left around its broken
strokes cost the faint bilevel pages. A line whose paper is darker than its ink (white on
a dark band) is read as cut too. Only the pixels change, never the line's size, so the
character positions the recogniser reports still hold for the line as cut.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np

# A line whose pixels are at least this light ...
WHITE = 254
# ... in more than this share is on white paper already.
WHITE_PAPER_SHARE = 0.5


def on_white_paper(line: np.ndarray) -> np.ndarray:
    """``line`` (BGR or grey pixels of one cut-out text line) with its paper white: the
    pixels lighter than the line's Otsu threshold set to white, the ink as it is. Lines on
    white paper already, and white-on-dark lines, come back unchanged."""
    if line.size == 0:
        return line
    colour = line.ndim == 3
    grey = cv2.cvtColor(line, cv2.COLOR_BGR2GRAY) if colour else line
    if float((grey >= WHITE).mean()) > WHITE_PAPER_SHARE:
        return line
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if float(np.median(grey)) <= threshold:  # most of the line is dark: white on dark
        return line
    out = grey.copy()
    out[grey > threshold] = 255
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR) if colour else out


class OnWhitePaper:
    """A RapidOCR ``TextRecognizer`` that reads every line :func:`on_white_paper`: the
    page's reading, the orientation tests' block readings and the re-reads of failed
    lines all pass through it. Anything else is the wrapped recogniser's."""

    def __init__(self, recogniser: Any) -> None:
        self.recogniser = recogniser
        self.as_cut = False  # set by read_as_cut

    def __call__(self, img_list: Any, return_word_box: bool = False) -> Any:
        if isinstance(img_list, np.ndarray):
            img_list = [img_list]
        if self.as_cut:
            return self.recogniser(img_list, return_word_box)
        return self.recogniser([on_white_paper(line) for line in img_list], return_word_box)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.recogniser, name)


@contextmanager
def read_as_cut(recogniser: Any, as_cut: bool) -> Iterator[None]:
    """Within it, ``recogniser`` (when it is an :class:`OnWhitePaper`) reads the lines as
    cut if ``as_cut``. For a bilevel page the pipeline blurred (steps.restore_strokes):
    its lines' paper is white, but the grey fringe the blur gave its strokes covers more
    than half of a dense line, so on_white_paper would cut it at Otsu and take back what
    the blur gave (faint bilevel pages of the hard corpus, mean CER, seed 11: 0.117 read
    as cut, 0.135 cut at Otsu; seed 23: 0.205, 0.206). A line-level rule for "paper white
    already" (the light side's median at WHITE) took the cut from clean grey lines too:
    normal corpus 0.022 -> 0.026."""
    if not (as_cut and isinstance(recogniser, OnWhitePaper)):
        yield
        return
    recogniser.as_cut = True
    try:
        yield
    finally:
        recogniser.as_cut = False
