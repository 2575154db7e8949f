"""Layout regions: the page's text lines grouped into blocks, read block by block.

Row-wise reading (:mod:`ocr_worker.reading_order`) is right for forms and tables, but it
reads two things printed side by side -- the front and back of an ID card copied on one
page, a two-column form -- across both, so their fields interleave. This module finds such
blocks with a recursive XY-cut on the pieces' boxes:

* a *horizontal* cut at the widest band of blank rows across the whole block (this alone
  never changes the row-wise order: no row crosses a blank band);
* a *vertical* cut at a blank gutter that runs the full height of the block, wider than
  :data:`GUTTER` line heights, with at least two rows on each side -- and only when the two
  sides' lines do NOT sit on one row grid. A table's columns are separated by full-height
  gutters too, but its cells align as rows (same vertical centre); side-by-side cards and
  independent columns do not. A wrong split scrambles a table, which is worse than no
  split, so the test is strict.

The larger of the two candidate gaps (in line heights) is cut first, the classic XY-cut
rule: a title above two cards is cut off by its blank band before the cards are split.

Pure: boxes in, groups out; no engine, image or dms code (and no reading_order: the
tesseract engine, which reading_order imports from, uses this module too).
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TypeVar

from ocr_worker.results import BBox

T = TypeVar("T")

# A column gutter is at least this many median line heights wide. The cell gap inside a
# form row is 1.5 (reading_order._CELL_GAP); cards and columns sit further apart.
GUTTER = 2.0
# Two lines on either side of a gutter are "on one row" when their vertical centres differ
# by at most this share of the shorter one's height (cells of one table row). Side-by-side
# ID cards' lines that happen to share a row differ by ~0.45 of it.
_ALIGN = 0.25
# A vertical split is refused when at least this share of the smaller side's lines have an
# aligned partner across the gutter: that is a table or a row-wise form.
_TABLE_SHARE = 0.6
# At least this many rows on each side of a gutter: one line beside a column is a label or
# a date, not a column.
_MIN_ROWS = 2


def _height(b: BBox) -> int:
    return max(1, b[3] - b[1])


def _row_count(boxes: list[BBox]) -> int:
    """How many text rows ``boxes`` make: the rule of ``reading_order.group_rows`` (a box
    joins a row whose band it overlaps by half the shorter height), counted only."""
    bands: list[BBox] = []
    for b in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        if not any(min(r[3], b[3]) - max(r[1], b[1]) >= 0.5 * min(_height(r), _height(b))
                   for r in bands[-3:]):
            bands.append(b)
    return len(bands)


def _gaps(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Blank stretches (start, end) between the union of ``intervals``."""
    out: list[tuple[int, int]] = []
    reach: int | None = None
    for lo, hi in sorted(intervals):
        if reach is not None and lo > reach:
            out.append((reach, lo))
        reach = hi if reach is None else max(reach, hi)
    return out


def _aligned(a: BBox, b: BBox) -> bool:
    # Centres, not edges: the detector's box of a label is often taller than its value's
    # (measured on a generated site-survey form: 103 against 73 px, centres 1 px apart).
    h = min(_height(a), _height(b))
    return abs((a[1] + a[3]) - (b[1] + b[3])) / 2 <= _ALIGN * h


def _column_split(boxes: list[BBox], idx: list[int], line_h: float) -> int | None:
    """The x of a clear column gutter in this block, or None."""
    gaps = _gaps([(boxes[i][0], boxes[i][2]) for i in idx])
    if not gaps:
        return None
    lo, hi = max(gaps, key=lambda g: g[1] - g[0])
    if hi - lo < GUTTER * line_h:
        return None
    left = [boxes[i] for i in idx if boxes[i][2] <= lo]
    right = [boxes[i] for i in idx if boxes[i][0] >= hi]
    if min(_row_count(left), _row_count(right)) < _MIN_ROWS:
        return None
    small, other = (left, right) if len(left) <= len(right) else (right, left)
    partnered = sum(1 for b in small if any(_aligned(b, o) for o in other))
    if partnered >= _TABLE_SHARE * len(small):
        return None
    return (lo + hi) // 2


def _cut(boxes: list[BBox], idx: list[int], line_h: float) -> list[list[int]]:
    if len(idx) < 2:
        return [idx]
    column = _column_split(boxes, idx, line_h)
    ygaps = _gaps([(boxes[i][1], boxes[i][3]) for i in idx])
    band = max(ygaps, key=lambda g: g[1] - g[0]) if ygaps else None
    if column is not None and (band is None or band[1] - band[0] <= _column_width(boxes, idx)):
        left = [i for i in idx if boxes[i][2] <= column]
        right = [i for i in idx if boxes[i][2] > column]
        return _cut(boxes, left, line_h) + _cut(boxes, right, line_h)
    if band is not None:
        top = _cut(boxes, [i for i in idx if boxes[i][3] <= band[0]], line_h)
        bottom = _cut(boxes, [i for i in idx if boxes[i][3] > band[0]], line_h)
        if len(top) == 1 and len(bottom) == 1:
            # Bands one above the other are one region: reading them row-wise together is
            # reading each in turn. Regions differ only across a column gutter.
            return [top[0] + bottom[0]]
        return top + bottom
    return [idx]


def _column_width(boxes: list[BBox], idx: list[int]) -> int:
    gaps = _gaps([(boxes[i][0], boxes[i][2]) for i in idx])
    return max((hi - lo for lo, hi in gaps), default=0)


def regions(items: Sequence[T], bbox: Callable[[T], BBox]) -> list[list[T]]:
    """``items`` grouped into layout regions in reading order (top to bottom, a left
    column before its right neighbour); inside each region, the order of ``items``."""
    boxes = [bbox(it) for it in items]
    if not boxes:
        return []
    line_h = statistics.median(_height(b) for b in boxes)
    return [[items[i] for i in sorted(block)]
            for block in _cut(boxes, list(range(len(boxes))), line_h)]
