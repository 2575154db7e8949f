"""Reading order for forms and tables: rows top to bottom, cells left to right.

Engines return text pieces (PP-OCR lines, tesseract words) with boxes, in an order of their
own: PP-OCR sorts by the top edge only, so a label and its value whose tops differ by a few
pixels swap places; tesseract's layout analysis may read a table column by column. Archive
pages are mostly forms, where a row (label, value, label, value) is the natural unit, so we
group pieces into rows by vertical overlap and read each row left to right.

Only the boxes are used, never the text, so this works the same for any engine.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ocr_worker.engine_api import is_cjk
from ocr_worker.results import BBox, Word

T = TypeVar("T")

# Two pieces share a row when their vertical overlap is at least this share of the shorter
# one's height. Half tolerates the residual skew after deskew (a 0.2° tilt moves the end of
# a 20 cm line by 0.7 mm, a fifth of a 10 pt line) without merging neighbouring lines,
# which overlap by nothing at all on printed forms.
_ROW_OVERLAP = 0.5
# A gap wider than this many line heights between two pieces of one row separates cells
# (label | value); narrower gaps are the spacing inside one phrase.
_CELL_GAP = 1.5


@dataclass(frozen=True)
class Piece:
    """A recognised text fragment and its box (x0, y0, x1, y1) in image pixels."""

    text: str
    bbox: BBox


def _height(b: BBox) -> int:
    return max(1, b[3] - b[1])


def _overlap(a: BBox, b: BBox) -> int:
    return min(a[3], b[3]) - max(a[1], b[1])


def group_rows(items: Sequence[T], bbox: Callable[[T], BBox]) -> list[list[T]]:
    """Items grouped into rows (top to bottom), each row sorted left to right.

    Greedy on the vertical centre: an item joins the row whose vertical band it overlaps
    most, if that overlap is at least half the shorter height; otherwise it starts a row.
    The band of a row is that of its first (topmost-centred) item, so a tall cell spanning
    two rows does not glue them together.
    """
    order = sorted(items, key=lambda it: ((bbox(it)[1] + bbox(it)[3]) / 2, bbox(it)[0]))
    rows: list[tuple[BBox, list[T]]] = []
    for it in order:
        b = bbox(it)
        best: list[T] | None = None
        best_share = _ROW_OVERLAP
        # Only recent rows can overlap: items come in order of their centres.
        for band, members in rows[-3:]:
            share = _overlap(band, b) / min(_height(band), _height(b))
            if share >= best_share:
                best, best_share = members, share
        if best is None:
            rows.append((b, [it]))
        else:
            best.append(it)
    out = [sorted(members, key=lambda it: bbox(it)[0]) for _, members in rows]
    out.sort(key=lambda row: min(bbox(it)[1] for it in row))
    return out


def _join_row(texts: list[str], boxes: list[BBox]) -> str:
    """One row's text. Cells (wide gaps) are separated by a space; inside a cell, CJK
    neighbours are written without one and Latin/digit neighbours with one."""
    if not texts:
        return ""
    height = statistics.median(_height(b) for b in boxes)
    out = [texts[0]]
    for i in range(1, len(texts)):
        gap = boxes[i][0] - boxes[i - 1][2]
        prev, cur = texts[i - 1], texts[i]
        if not prev or not cur:
            out.append(cur)
            continue
        cjk_edge = is_cjk(prev[-1]) or is_cjk(cur[0])
        if gap > _CELL_GAP * height:
            sep = " "
        elif cjk_edge:
            sep = " " if gap > 0.6 * height else ""
        else:
            sep = " "
        out.append(sep + cur)
    return "".join(out)


def order_text(pieces: Sequence[Piece]) -> str:
    """Page text from pieces: one row a line, rows top to bottom, cells left to right."""
    rows = group_rows([p for p in pieces if p.text.strip()], lambda p: p.bbox)
    return "\n".join(
        _join_row([p.text for p in row], [p.bbox for p in row]) for row in rows
    )


def order_words(words: Sequence[Word]) -> str:
    """The same for word boxes (tesseract's, or PP-OCR's per-character boxes)."""
    return order_text([Piece(w.text, w.bbox) for w in words])
