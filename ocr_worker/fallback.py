"""No silent loss: judge a page's reading against the ink on the page, and read a poor one
again another way.

Pure functions on images and engine outputs; the ``fallback`` step (:mod:`ocr_worker.steps`)
runs the chain. A reading is *poor* when the page has ink but the reading is empty, far
too short for that ink, or of low confidence. The chain then tries, in order and at most
:data:`MAX_EXTRA_READS` times:

1. ``rebinarise``: a faint grey page is contrast-stretched and binarised with Sauvola's
   local threshold (a global Otsu cut eats light strokes); a bilevel page, whose strokes
   the scanner's threshold has already broken, gets its ink grown by one pixel;
2. ``other_engine``: the other recogniser (tesseract <-> PP-OCR) on the same pixels;
3. ``upsample``: a page scanned under 250 dpi read at 1.5x (strokes of small print at
   150-200 dpi are one or two pixels wide).

The best reading by :func:`plausibility` is kept -- never a worse one than the first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from hanzi.ranges import HAN
from ocr_worker.engine_api import EngineOutput

MAX_EXTRA_READS = 3
# Glyph ink (mm² of paper, glyph-sized components of the Otsu mask at 150 dpi) per printed
# character, measured on ten generated pages (dms.sample_data.hard: contracts, forms, an
# ID-card copy, a stamped page; 150-300 dpi; clean, faint bilevel, low contrast, JPEG q15):
# 3.3-8.1, median 6.3. A stamp's characters and a form's ticks count as ink too.
INK_MM2_PER_CHAR = 6.0
# A reading with fewer characters than this share of what its ink suggests is "short":
# a page read completely gives 0.74 (the densest measured, 8.1 mm² a character) or more;
# the faint sideways contract left unturned read 207 of 764 characters (0.27).
SHORT_SHARE = 0.4
MIN_TEXT_CHARS = 5
# Under this DPI a page is read again at UPSAMPLE times its size.
UPSAMPLE_BELOW_DPI = 250
UPSAMPLE = 1.5
# A re-read must beat the kept one by this much plausibility to replace it: equal
# readings keep the first (it is the one the orientation was judged with).
MIN_GAIN = 0.02

# PP-OCR reports high confidences even for poor readings: on the hard corpus its readings
# at CER > 0.3 had mean confidences 70-73, good ones 90-99 (tesseract's scale is lower:
# the deployment's ocr_low_confidence, 60, is for it). The stricter of the two applies.
# 85, not 80: a faint sideways annex read from its turned detection (orientation "auto")
# came out at CER 0.54 with confidence 80.3; no page of the normal corpus falls below 85
# (benchmarks/fallback_cost_bench.py --pages 10: 0 pages read again).
ENGINE_LOW_CONFIDENCE = {"ppocr": 85.0, "ppocr5": 85.0}

_ANALYSIS_DPI = 150
_HAN = re.compile(f"[{HAN}]")


@dataclass(frozen=True)
class Ink:
    glyph_mm2: float  # paper covered by glyph-sized ink components
    share: float  # share of the page's pixels that are ink of any size (specks too)

    @property
    def has_text(self) -> bool:
        """Ink enough for text: five characters' worth of glyphs, or as much ink of any
        size as the orientation step calls "not blank" (a faint scan's strokes break into
        specks too small to count as glyphs)."""
        return self.glyph_mm2 >= 5 * INK_MM2_PER_CHAR or self.share >= BLANK_INK_SHARE


# The detect_orientation and deskew steps take a page under this ink share as blank.
BLANK_INK_SHARE = 0.002


def measure_ink(grey: np.ndarray, dpi: int) -> Ink:
    """The page's ink on an Otsu-binarised 150-dpi copy. Glyph ink leaves out components
    larger than a big character (rules, table frames, photo boxes, page-edge shadows:
    ink but no text) and single pixels (grain).

    Faint scans measure low (their strokes are broken), so the estimate errs towards
    fewer expected characters: it misses some short readings but raises no false ones."""
    scale = min(1.0, _ANALYSIS_DPI / max(dpi, 1))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, mask = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if mask.mean() > 0.5 * 255:  # Otsu split a blank page's paper grain: no ink
        return Ink(0.0, 0.0)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return Ink(0.0, 0.0)
    eff_dpi = dpi * scale
    big = eff_dpi * 0.4  # 10 mm: larger than any body-text character or word fragment
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    small_enough = (w < big) & (h < big)
    glyph = small_enough & (area > 1)
    mm_per_px = 25.4 / eff_dpi
    return Ink(float(area[glyph].sum()) * mm_per_px * mm_per_px,
               float(area[small_enough].sum()) / mask.size)


def text_chars(text: str) -> int:
    return len("".join(text.split()))


@dataclass(frozen=True)
class Judgement:
    chars: int
    expected: float  # characters the glyph ink suggests
    confidence: float
    reasons: tuple[str, ...]  # empty_with_ink, short_for_ink, low_confidence
    score: float

    @property
    def poor(self) -> bool:
        return bool(self.reasons)


def low_confidence_for(engine: str, deployment: float) -> float:
    return max(deployment, ENGINE_LOW_CONFIDENCE.get(engine, 0.0))


def judge(out: EngineOutput, ink: Ink, low_confidence: float) -> Judgement:
    """How plausible ``out`` is for a page with ``ink``; a mean confidence under
    ``low_confidence`` (see :func:`low_confidence_for`) is poor."""
    chars = text_chars(out.text)
    expected = ink.glyph_mm2 / INK_MM2_PER_CHAR
    reasons = []
    if ink.has_text and chars < MIN_TEXT_CHARS:
        reasons.append("empty_with_ink")
    elif chars >= MIN_TEXT_CHARS and chars < SHORT_SHARE * expected:
        reasons.append("short_for_ink")
    if chars and out.mean_confidence < low_confidence:
        reasons.append("low_confidence")
    return Judgement(chars, round(expected, 1), out.mean_confidence, tuple(reasons),
                     plausibility(out, expected))


def plausibility(out: EngineOutput, expected: float) -> float:
    """0..1: characters for the ink (capped at what the ink suggests), confidence, and
    the share of Han characters (turned or broken text reads as Latin and punctuation
    garbage), multiplied."""
    chars = text_chars(out.text)
    if not chars:
        return 0.0
    coverage = min(1.0, chars / max(expected, 1.0))
    han = len(_HAN.findall(out.text)) / chars
    return round(coverage * (0.5 + 0.5 * out.mean_confidence / 100) * (0.7 + 0.3 * han), 4)


# --- the re-reads' images ---------------------------------------------------------------


def sauvola(grey: np.ndarray, dpi: int, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola's local threshold (0 ink / 255 paper), window ~ 1/8 inch: keeps light
    strokes a global cut loses next to dark ones."""
    win = max(15, int(dpi / 8) | 1)
    g = grey.astype(np.float32)
    mean = cv2.boxFilter(g, -1, (win, win), borderType=cv2.BORDER_REPLICATE)
    sq = cv2.boxFilter(g * g, -1, (win, win), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    thresh = mean * (1 + k * (std / r - 1))
    return np.where(g > thresh, 255, 0).astype(np.uint8)


def percentiles_u8(grey: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """``np.percentile(grey, q)`` (linear interpolation) for each q of an 8-bit image, from
    one histogram: the order statistics come from the cumulative counts instead of a
    partial sort of every pixel (2 ms against 55 ms for two on an A4 page at 200 dpi)."""
    hist = cv2.calcHist([np.ascontiguousarray(grey)], [0], None, [256], [0, 256])
    counts = np.cumsum(hist.ravel().astype(np.int64))
    out = []
    for q in qs:
        pos = q / 100.0 * (grey.size - 1)
        lo = int(np.floor(pos))
        a = int(np.searchsorted(counts, lo, side="right"))
        b = int(np.searchsorted(counts, min(lo + 1, grey.size - 1), side="right"))
        out.append(a + (pos - lo) * (b - a))
    return out


def stretch(grey: np.ndarray) -> np.ndarray:
    """Contrast normalisation: the 0.5th percentile to black, the paper (median) to white."""
    lo, hi = percentiles_u8(grey, (0.5, 50))
    if hi - lo < 10:
        return grey
    # the same float32 arithmetic on the 256 grey levels, then a table lookup per pixel
    levels = (np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo))
    return cv2.LUT(grey, np.clip(levels, 0, 255).astype(np.uint8))


def rebinarise(grey: np.ndarray, dpi: int, bilevel: bool) -> np.ndarray:
    if bilevel:
        # broken strokes: grow the ink (dark) by one pixel, a 2x2 minimum filter
        return cv2.erode(grey, np.ones((2, 2), np.uint8))
    return sauvola(stretch(grey), dpi)


def upsample(grey: np.ndarray) -> np.ndarray:
    return cv2.resize(grey, None, fx=UPSAMPLE, fy=UPSAMPLE, interpolation=cv2.INTER_CUBIC)


def other_engine(engine: str) -> str:
    return "tesseract" if engine.startswith("ppocr") else "ppocr5"
