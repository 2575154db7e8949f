"""Orientation evidence: which way up a page is, from its ink, from OCR of a crop, or from
the geometry and direction of its detected text lines.

Pure functions on images and recognised words; the ``detect_orientation`` step
(:mod:`ocr_worker.steps`) reads the crops and decides with them. The thresholds were
measured on the generated scans (``dms.sample_data``) as noted at each.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hanzi.ranges import is_han
from ocr_worker.results import Word

# A candidate reading this well is accepted without trying the others. Measured with
# tesseract psm 6 on the generated scans' crops (about 100 of each): upright 40-93 (median
# 75), upside down and sideways at most 43. At 80 half the upright pages paid for a second
# read of their upside-down turn; 70 keeps a margin of 27 over the best wrong turn seen.
CONF_SURE = 70.0
# ... and so is one with at least _SURE_CHARS Han characters read at >= _CHAR_SURE that do
# not look alike turned over, making at least _SURE_SHARE of what was read. Turned text
# reads as garbage; a few characters survive it with high confidence -- those that are
# (nearly) symmetric under a half turn (一 工 日 中 田 ...) -- and of the rest, over 120
# pages and 360 wrong turns at most one per crop. Upright crops of Traditional pages read
# with chi_sim mostly score 45-70 on average, below CONF_SURE, but have 8-50 such sure
# characters: the count accepts most of them on the first read (was: a second read of the
# upside-down turn to compare), at a margin of 8x over the wrong turns.
_CHAR_SURE = 90.0
_SURE_CHARS = 8
_SURE_SHARE = 0.15
_HALF_TURN_ALIKE = frozenset("一二三十工王干土士中口日曰田目回〇出丰亚非米串吕")


def sure_characters(words: Sequence[Word]) -> tuple[int, int]:
    """(Han characters read at >= _CHAR_SURE that a half turn would not keep, all
    characters read): the orientation evidence beside the mean confidence."""
    sure = total = 0
    for w in words:
        total += len(w.text)
        if w.conf >= _CHAR_SURE:
            sure += sum(1 for ch in w.text
                        if ch not in _HALF_TURN_ALIKE and is_han(ch))
    return sure, total


def reads_upright(mean_conf: float, words: Sequence[Word]) -> bool:
    if mean_conf >= CONF_SURE:
        return True
    sure, total = sure_characters(words)
    return sure >= _SURE_CHARS and sure >= _SURE_SHARE * total
# Accept the better of the favoured axis' two orientations without trying the other axis
# when it reads at least this well and beats its opposite by AXIS_MARGIN. Wrong turns read
# under 30; upright Traditional crops read 55-70 with the first language (chi_sim), so a
# bar of 60 sent a third of them through all four turns and OSD (3x the orientation cost).
CONF_GOOD = 45.0
AXIS_MARGIN = 20.0
# Margin needed to pick among all four by confidence alone; below it OSD breaks the tie.
CONF_MARGIN = 10.0
OSD_MIN_CONF = 1.0
SIDEWAYS_CV = 1.25


# A row (column) with ink over this share of its length is a border or a rule, not text.
_SOLID = 0.6


def row_profile_cv(mask: np.ndarray) -> float:
    """Coefficient of variation of the row profile, margins trimmed. Horizontal text lines
    alternate full and empty rows (measured 0.9-1.35 on rendered pages) while the same page
    turned 90° gives 0.4-0.6 -- even for grid-aligned CJK, whose *column* profile has as
    many sharp edges as its row profile (so edge-based scores do not work)."""
    smeared = cv2.dilate(mask, np.ones((1, 5), np.uint8))  # bridge gaps inside a line
    rows = smeared.sum(axis=1)
    nz = np.nonzero(rows)[0]
    if nz.size < 2:
        return 0.0
    rows = rows[nz[0] : nz[-1] + 1]
    return float(rows.std() / max(rows.mean(), 1e-9))


def text_crop(grey: np.ndarray, dpi: int) -> np.ndarray:
    """The densest 1.5-inch band of rows, at most 4 inches wide: a few lines of text are
    enough to judge the orientation, and garbage (wrong orientation) OCR stays cheap.

    Rows and columns that are mostly ink are not text but a scanner's dark edge or a
    table rule; they are ignored and whitened (measured: a grey strip along the bottom
    edge of a scan out-inked the text and the crop held no text at all)."""
    h, w = grey.shape
    band = min(h, int(1.5 * dpi))
    mask = grey < 128
    ink = mask.sum(axis=1).astype(np.float64)
    solid_rows = ink > _SOLID * w
    ink[solid_rows] = 0
    sums = np.convolve(ink, np.ones(band), mode="valid")
    top = int(np.argmax(sums)) if sums.size else 0
    col_ink = mask[top : top + band].sum(axis=0)
    solid_cols = col_ink > _SOLID * min(band, h)
    cols = np.nonzero((col_ink > 0) & ~solid_cols)[0]
    x0 = max(0, int(cols[0]) - 20) if cols.size else 0
    x1 = min(w, x0 + int(4 * dpi))
    crop = grey[top : top + band, x0:x1].copy()
    crop[solid_rows[top : top + band]] = 255
    crop[:, solid_cols[x0:x1]] = 255
    return crop


# --- orientation from text lines (PP-OCR detector geometry + direction classifier) ---------

# A detected box this many times longer than high is a line of text lying along its long
# side; squarer boxes (single characters, seals, photos) say nothing about the axis.
LINE_ASPECT = 2.0
# The page is taken as sideways only when the length of the vertical lines is this many
# times that of the horizontal ones; most pages are upright, and a form with a few
# vertical labels must not be turned (measured on the generated scans: turned pages have
# no horizontal line at all or one short one, 487 px of 3053).
SIDEWAYS_RATIO = 2.0
# Upside down only when the classifier's votes for 180 outweigh those for 0 by this ratio
# and make at least MIN_VOTES (sum of scores): a sparse or faint page with one or two
# uncertain lines stays as it is. Measured: on turned pages the losing side gets 0-1.5 of
# 10-24 votes.
FLIP_RATIO = 3.0
MIN_VOTES = 2.0


@dataclass(frozen=True)
class LineEvidence:
    """What a text detector and a 0/180 direction classifier say about a page, in the
    page's own frame: total length of horizontal and vertical text lines (pixels of the
    analysed copy) and the classifier's score sums for the lines read as they stand ('0')
    or upside down ('180'). Vertical lines are turned a quarter counter-clockwise before
    classification, so for them '0' means the page needs 270° and '180' 90°."""

    horizontal: float
    vertical: float
    votes_0: float
    votes_180: float
    lines: int


def turn_from_lines(ev: LineEvidence) -> tuple[int, str]:
    """Clockwise turn (0/90/180/270) that makes the page upright, and why. Upright is kept
    unless another turn wins clearly."""
    if ev.lines == 0:
        return 0, "no text lines"
    sideways = ev.vertical > SIDEWAYS_RATIO * ev.horizontal
    if max(ev.votes_0, ev.votes_180) < MIN_VOTES:
        if sideways:
            # The axis is clear but the direction is not: of the two sideways turns the
            # classifier's (weak) majority is still a better guess than leaving the page
            # on its side, which no reading survives.
            return (90 if ev.votes_180 > ev.votes_0 else 270), "sideways, few lines"
        return 0, "few lines"
    if sideways:
        return (90 if ev.votes_180 > ev.votes_0 else 270), "sideways"
    if ev.votes_180 >= FLIP_RATIO * max(ev.votes_0, 1e-9):
        return 180, "upside down"
    return 0, "upright"



def votes_clear(ev: LineEvidence) -> bool:
    """Whether the direction classifier's vote says clearly which way the lines read: one
    side has MIN_VOTES and FLIP_RATIO times the other's."""
    won, lost = max(ev.votes_0, ev.votes_180), min(ev.votes_0, ev.votes_180)
    return won >= MIN_VOTES and won >= FLIP_RATIO * lost


# A faint bilevel scan breaks strokes into dots that the detector and the direction
# classifier half miss; the dots grown by a pixel (a 2x2 minimum filter, as the fallback
# chain's re-read of a bilevel page) join back into strokes. Measured on the 18 faint
# bilevel pages of the hard corpus (dms.sample_data.hard, seeds 11 and 23): a 200-dpi
# annex turned 270 gave 7 lines voting 2.7 against 2.9 (turned to 90, CER 0.88), grown
# 13.9 against 3.8 (270); a 300-dpi contract page turned 90 gave 3 lines and no axis
# (left on its side, CER 0.82), grown 30648 px of lines down the page voting 22.3 against
# 6.4 (90). No page's clear turn changed. A Gaussian blur (sigma 0.6) found the annex's
# turn but not the contract page's, and made another page's clear vote unclear.
SECOND_LOOK_GROW = 2


def second_look(grey: np.ndarray) -> np.ndarray:
    """The page with its ink grown by a pixel (SECOND_LOOK_GROW), for a second detection."""
    return cv2.erode(grey, np.ones((SECOND_LOOK_GROW, SECOND_LOOK_GROW), np.uint8))


def prefer_second_look(first: LineEvidence, second: LineEvidence) -> bool:
    """Whether the second look's lines decide the turn instead of the first's: only when
    the first vote was unclear and the second is clear. Two unclear votes keep the first
    (and so upright unless its lines say otherwise): a guess is not made surer by being
    made twice."""
    return not votes_clear(first) and votes_clear(second)


# --- the decision rule: crop reads checked against the text lines' axis ------------------

# Of the two sideways turns, the direction classifier's votes decide when clear (FLIP_RATIO,
# MIN_VOTES); else the crop reads when they differ by this much; else the votes' (weak)
# majority. Measured on faint bilevel contracts: turned 90°, crop reads 14.3 (90) against
# 9.8 (270) and votes 9.5 against 13.1 (unclear, the crop reads right); turned 270°, crop
# reads 19.3 (90) against 12.1 and 42.3 against 15.4 (wrong), votes 3.4 against 11.8 and
# 0.9 against 5.4 (clear, right).
SIDEWAYS_CONF_MARGIN = 3.0
# A crop read this sure, beating each of at least two other turns read by this much, wins
# even against the lines' axis: on a dense sideways contract page (the sample corpus) the
# detector merges characters of neighbouring columns into horizontal boxes, so the lines
# "showed" 0/180 while the crop reads said 270 at 77.6 against 8.5-15.1. The misturns the
# axis check exists for read 62.7 and 48.3 (hard corpus), below this.
DECISIVE_CONF = 70.0
DECISIVE_MARGIN = 40.0


def line_axis(ev: LineEvidence) -> tuple[int, int] | None:
    """The two turns the detected text lines allow: (0, 180) when the lines run across
    the page, (90, 270) when they run down it, None when the lines do not say."""
    if not ev.lines:
        return None
    if ev.vertical > SIDEWAYS_RATIO * ev.horizontal:
        return (90, 270)
    if ev.horizontal > SIDEWAYS_RATIO * ev.vertical:
        return (0, 180)
    return None


def _decisive(confs: dict[int, float], candidate: int) -> bool:
    best = confs.get(candidate, 0.0)
    others = [c for r, c in confs.items() if r != candidate]
    return best >= DECISIVE_CONF and len(others) >= 2 and all(
        best - c >= DECISIVE_MARGIN for c in others)


def decisive_turn(confs: dict[int, float]) -> int | None:
    """The turn whose crop read is decisive (see DECISIVE_CONF), if one is."""
    if not confs:
        return None
    best = max(confs, key=lambda r: confs[r])
    return best if _decisive(confs, best) else None


def choose_turn(confs: dict[int, float], candidate: int | None,
                ev: LineEvidence) -> tuple[int | None, str]:
    """The clockwise turn from crop reads (``confs``: mean confidence per turn read,
    ``candidate``: the turn the crop reads accepted, if any) and the page's text lines.

    Upright is kept unless another turn wins clearly: a crop read's winner must lie on
    the axis the text lines show (measured on the hard corpus, dms.sample_data.hard: an
    upright skewed low-contrast page read 62.7 turned 270°; an upside-down signature page
    read 48.3 at 90°, 19.0 and 18.8 at 0° and 180° -- both turned onto the wrong axis and
    read as garbage at confidence 91-98). On the lines' axis the crop reads decide when
    they differ clearly, else the direction classifier's votes; upright when they do not
    say. None: the lines say nothing either, the caller keeps its own tie-break."""
    axis = line_axis(ev)
    if candidate is not None and (axis is None or candidate in axis):
        return candidate, "crop read"
    if candidate is not None and _decisive(confs, candidate):
        return candidate, "crop read, decisive against the lines"
    if axis is None:
        return None, "no line axis"
    a, b = axis
    ca, cb = confs.get(a), confs.get(b)
    if axis == (0, 180):
        if ca is not None and cb is not None and abs(ca - cb) >= CONF_MARGIN:
            return (a if ca > cb else b), "lines' axis, crop reads"
        if ev.votes_180 >= FLIP_RATIO * max(ev.votes_0, 1e-9) and ev.votes_180 >= MIN_VOTES:
            return 180, "lines' axis, upside down by votes"
        return 0, "lines' axis, upright kept"
    hi, lo = max(ev.votes_0, ev.votes_180), min(ev.votes_0, ev.votes_180)
    if hi >= MIN_VOTES and hi >= FLIP_RATIO * max(lo, 1e-9):
        return (90 if ev.votes_180 > ev.votes_0 else 270), "sideways lines, clear votes"
    if ca is not None and cb is not None and abs(ca - cb) >= SIDEWAYS_CONF_MARGIN:
        return (a if ca > cb else b), "sideways lines, crop reads"
    return (90 if ev.votes_180 > ev.votes_0 else 270), "sideways lines, votes"


# --- when the lines' turn needs no crop read ------------------------------------------

def lines_confirmed_by_rows(ev: LineEvidence, rotation: int, cv_h: float, cv_v: float
                            ) -> bool:
    """Whether the detected lines' turn stands without a confirming crop read: the row
    profile of the page's ink (``row_profile_cv`` across and down, free) shows the same
    axis, and the direction classifier's vote was clear. The crop read exists for the
    detector merging the characters of neighbouring columns into horizontal boxes on a
    dense sideways page (the lines "showed" upright); there the row profile disagrees
    (measured on the sample corpus: down/across 1.74 on that page, 0.2-1.0 on 40 upright
    pages but one ID-card copy at 2.9, 1.5-6.4 on sideways ones). The crop read cost about
    0.1 CPU s a page, 3% of a PP-OCR page."""
    if ev.lines == 0:
        return False
    across_rows = cv_v <= SIDEWAYS_CV * cv_h
    if rotation in (0, 180):
        if not across_rows or ev.vertical > ev.horizontal:
            return False
    elif across_rows:
        return False
    won, lost = ((ev.votes_0, ev.votes_180) if rotation in (0, 270)
                 else (ev.votes_180, ev.votes_0))
    return won >= MIN_VOTES and won >= FLIP_RATIO * lost
