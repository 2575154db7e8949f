"""Word spaces in Latin text, restored from the page's pixels when the engine dropped them.

PP-OCRv4 reads a bilingual heading "POWER SUPPLY CONTRACT" as "POWERSUPPLYCONTRACT" (its
recogniser often emits no space class between Latin words); PP-OCRv5 drops some of them
("POWER SUPPLYCONTRACT"). The recogniser's CTC alignment still places each character
(RapidOCR's ``return_word_box``), so between two neighbouring letters we can look at the
scan itself: the widest run of blank pixel columns between the two characters' centres.
Between letters of one word that run is the letter spacing; at a word break it is the
space, several times wider. A gap is a space when it is wider than :data:`SPACE_SHARE` of
the run's ink height and :data:`SPACE_RATIO` times the line's median letter gap.

The same look decides a space between a Han character and a Latin letter or digit
("供用电合同 POWER", "户号 3301000001"), against the line's height alone.

Between two Latin letters otherwise: never inside Chinese (written without spaces), never next
to a digit (identifiers such as "SDGDHT2020075456" stay whole; their letter and digit
spacing is uniform anyway).

Pure: numpy arrays and boxes in, text and boxes out.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_worker.results import BBox
from hanzi.ranges import is_han

# A word space in Latin type is ~0.25-0.33 em wide plus the side bearings; letter spacing
# is under 0.1 em, a little more beside a narrow letter (I, l). Measured on Noto Sans
# (regular, bold), Noto Serif and WenQuanYi, caps and lower case at 40 and 60 px: spaces
# 0.27-0.55 of the run's ink height (cap top to descender) and 1.8-3 times the median
# letter gap; letter gaps at most 0.25 of the height and under 1.6 times the median.
SPACE_SHARE = 0.25
SPACE_RATIO = 1.6
# Between a Han character and a Latin letter or digit, against the line's ink height
# (Han characters fill the em): measured spaces 0.25-0.45 of it, "第3页"-style neighbours
# printed without a space under 0.15.
EDGE_SHARE = 0.22


def _letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _han(ch: str) -> bool:
    # Ideographs only, not CJK punctuation: a space after "：" or before "（" means nothing.
    return is_han(ch)


def _boundary(a: str, b: str) -> bool:
    """A Han character next to a Latin letter or digit ("合同 POWER", "户号 3301")."""
    return (_han(a) and b.isascii() and b.isalnum()) or (a.isascii() and a.isalnum() and _han(b))


@dataclass(frozen=True)
class Glyph:
    """One recognised character (or a space) and its box in page pixels."""

    text: str
    bbox: BBox


def _ink(grey: np.ndarray, box: BBox) -> np.ndarray:
    """Ink mask of ``box`` (dark pixels: darker than midway between the crop's extremes)."""
    x0, y0, x1, y1 = (max(0, v) for v in box)
    crop = grey[y0:y1, x0:x1]
    if crop.size == 0:
        return np.zeros((0, 0), bool)
    lo, hi = int(crop.min()), int(crop.max())
    if hi - lo < 40:  # no contrast: nothing printed here, or all of it ink
        return np.zeros(crop.shape, bool)
    return np.asarray(crop < (lo + hi) / 2)


def _blank_run(cols: np.ndarray, a: int, b: int) -> int:
    """Longest run of blank columns in ``cols[a:b]``."""
    best = run = 0
    for inked in cols[max(0, a):max(0, b)]:
        run = 0 if inked else run + 1
        best = max(best, run)
    return best


def restore_spaces(grey: np.ndarray, glyphs: Sequence[Glyph]) -> list[Glyph]:
    """``glyphs`` of one line with a space glyph inserted between two letters wherever the
    scan shows a word space the engine did not read."""
    letters = [i for i in range(len(glyphs) - 1)
               if _letter(glyphs[i].text) and _letter(glyphs[i + 1].text)]
    edges = [i for i in range(len(glyphs) - 1)
             if _boundary(glyphs[i].text[-1:], glyphs[i + 1].text[:1])]
    if not letters and not edges:
        return list(glyphs)
    line = (min(g.bbox[0] for g in glyphs), min(g.bbox[1] for g in glyphs),
            max(g.bbox[2] for g in glyphs), max(g.bbox[3] for g in glyphs))
    ink = _ink(grey, line)
    if ink.size == 0:
        return list(glyphs)
    # A stray speck does not bridge a space; a stroke is at least two pixels tall.
    cols = ink.sum(axis=0) >= 2
    ox = max(0, line[0])

    def centre(g: Glyph) -> int:
        return (g.bbox[0] + g.bbox[2]) // 2 - ox

    def ink_height(first: int, last: int) -> int:
        rows = np.flatnonzero(ink[:, max(0, glyphs[first].bbox[0] - ox):
                                  max(0, glyphs[last].bbox[2] - ox)].any(axis=1))
        return int(rows[-1] - rows[0] + 1) if rows.size else 0

    spaced: set[int] = set()
    if letters:
        height = ink_height(letters[0], letters[-1] + 1)
        gaps = {i: _blank_run(cols, centre(glyphs[i]), centre(glyphs[i + 1])) for i in letters}
        wide = max(SPACE_SHARE * height, SPACE_RATIO * statistics.median(gaps.values()))
        spaced |= {i for i, gap in gaps.items() if height and gap > wide}
    if edges:
        height = ink_height(0, len(glyphs) - 1)
        spaced |= {i for i in edges if height and _blank_run(
            cols, centre(glyphs[i]), centre(glyphs[i + 1])) > EDGE_SHARE * height}
    out: list[Glyph] = []
    for i, g in enumerate(glyphs):
        out.append(g)
        if i in spaced:
            right = glyphs[i + 1].bbox
            out.append(Glyph(" ", (g.bbox[2], g.bbox[1], max(g.bbox[2], right[0]), g.bbox[3])))
    return out


def ink_box(grey: np.ndarray, box: BBox) -> BBox:
    """``box`` shrunk to the ink inside it (itself when it holds none)."""
    ink = _ink(grey, box)
    if ink.size == 0 or not ink.any():
        return box
    ys, xs = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    x0, y0 = max(0, box[0]), max(0, box[1])
    return (x0 + int(xs[0]), y0 + int(ys[0]), x0 + int(xs[-1]) + 1, y0 + int(ys[-1]) + 1)
