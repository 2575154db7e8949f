"""Is a page whose lines run across upside down? PP-OCR's text-line direction classifier
voting over pieces of the page's lines, the lines found by the row profile of an ink mask
(no detector run): for a page tesseract reads, the cheap 0-against-180 evidence that lets
its own reading stand in for the orientation crop reads
(``orientation_steps.detect_orientation``).

Measured on the scanner benchmark's pages: a crop read cost 0.15-0.4 CPU s a page; the
detector on a 960-px copy (``ppocr_detection.line_evidence``) 0.4 s; these votes about 0.05 s.
"""
from __future__ import annotations

import cv2
import numpy as np

from errorkit import ExternalToolError
from ocr_worker.ppocr_models import load_model

# The model set whose direction classifier votes (both sets use RapidOCR's
# ch_ppocr_mobile_v2.0_cls; named here so a worker loads it before its first page).
DIRECTION_MODELS = "v5"
# Line pieces classified per page: enough for a clear vote, few enough to stay cheap.
MAX_PIECES = 24
# The fullest pieces are classified first; when they all but agree (SURE_VOTES of their
# FIRST_PIECES scores for one side, under one for the other) the rest cannot turn the
# vote and are not classified: two thirds of the classifier's work on a clean page, about
# 0.02 CPU s (scanner_bench, tesseract). The page's own reading still confirms the turn
# (orientation_steps.confirm_orientation).
FIRST_PIECES = 8
SURE_VOTES = 6.0
# Pieces are cut from strips this wide (analysis pixels, 100 dpi: 0.8 inch, 4-6 characters
# of body text): what the classifier's 48x192 input holds without squeezing them, and
# narrow enough that the lines of a page skewed by 3 degrees (deskew comes after the
# orientation) drift by 4 px within a strip and stay apart.
STRIP = 80
# A row band this high (analysis pixels) can be a line of text: 6-40 px is 4-29 pt.
_MIN_LINE, _MAX_LINE = 6, 40
# Ink share of a piece of text: strokes cover 8-45% of a line's box. Fuller bands are
# table rules and borders (the fullest pieces of a form were all rules, 5 px high, and
# the classifier split its votes on them), emptier ones specks.
_MIN_INK, _MAX_INK = 0.08, 0.45
# A strip's row with ink in fewer than this share of its columns is a gap between lines.
_ROW_INK = 0.02


def line_pieces(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of pieces of text lines in ``mask`` (1 = ink, analysis scale): in
    each vertical strip, the bands of inked rows a line high and inked like text; the
    fullest pieces first."""
    h, w = mask.shape
    pieces: list[tuple[float, tuple[int, int, int, int]]] = []
    for x0 in range(0, max(1, w - STRIP // 2), STRIP):
        strip = mask[:, x0:x0 + STRIP]
        inked = strip.sum(axis=1) > _ROW_INK * strip.shape[1]
        # Runs of inked rows: where the profile switches on and off.
        edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
        for y0, y1 in zip(edges[::2], edges[1::2], strict=True):
            if not _MIN_LINE <= y1 - y0 <= _MAX_LINE:
                continue
            ink = float(strip[y0:y1].mean())
            if _MIN_INK <= ink <= _MAX_INK:
                pieces.append((ink, (x0, int(y0), x0 + strip.shape[1], int(y1))))
    pieces.sort(key=lambda p: -p[0])
    return [box for _, box in pieces[:MAX_PIECES]]


def direction_votes(grey: np.ndarray, mask: np.ndarray, skew: float = 0.0,
                    models: str = DIRECTION_MODELS) -> tuple[float, float, int]:
    """(votes for 0, votes for 180, pieces found): the classifier's score sums over the
    line pieces of ``mask`` (the ink mask of ``grey`` at a smaller scale), cut from ``grey``.

    ``skew`` (degrees counter-clockwise, as ``steps.skew_angle`` finds it) straightens the
    lines first: the mask is turned (it is small), and each piece is cut from ``grey``
    through the same turn (one small warp per piece, not a turn of the whole page). On
    skewed pages the straight cut mixed two lines into a piece and the votes went weak
    (10 against 5 instead of 24 against 0)."""
    mask = straightened(mask, skew)
    boxes = line_pieces(mask)
    if not boxes:
        return 0.0, 0.0, 0
    model = load_model(models)
    votes = {"0": 0.0, "180": 0.0}
    for batch in (boxes[:FIRST_PIECES], boxes[FIRST_PIECES:]):
        if not batch:
            break
        try:
            _, labels, _ = model.text_cls(piece_images(grey, mask.shape, batch, skew))
        except Exception as exc:  # onnxruntime raises its own types
            raise ExternalToolError(f"ppocr direction classifier failed: {exc}") from exc
        for label, score in labels:
            votes[str(label)] = votes.get(str(label), 0.0) + float(score)
        won, lost = max(votes.values()), min(votes.values())
        if won >= SURE_VOTES and lost < 1.0:
            break
    return votes["0"], votes["180"], len(boxes)


def straightened(mask: np.ndarray, skew: float) -> np.ndarray:
    """``mask`` turned by ``skew`` degrees counter-clockwise (as deskew turns the page)."""
    if not skew:
        return mask
    mh, mw = mask.shape
    turn = cv2.getRotationMatrix2D((mw / 2, mh / 2), skew, 1.0)
    return cv2.warpAffine(mask, turn, (mw, mh), flags=cv2.INTER_NEAREST)


def piece_images(grey: np.ndarray, mask_shape: tuple[int, ...],
                 boxes: list[tuple[int, int, int, int]], skew: float = 0.0
                 ) -> list[np.ndarray]:
    """The pieces ``boxes`` (of a mask of ``mask_shape``, as :func:`line_pieces` finds
    them) cut from ``grey`` with a quarter of their height of margin, as BGR images for
    PP-OCR's models. ``skew`` as in :func:`direction_votes`: each piece is cut through the
    page's turn (one small warp per piece, not a turn of the whole page)."""
    h, w = grey.shape
    sy, sx = h / mask_shape[0], w / mask_shape[1]
    page_turn = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
    pieces = []
    for x0, y0, x1, y1 in boxes:
        pad = max(1, (y1 - y0) // 4)
        top, left = (y0 - pad) * sy, x0 * sx
        size = (max(1, int((x1 - x0) * sx)), max(1, int((y1 - y0 + 2 * pad) * sy)))
        # The page turned by ``skew``, then shifted so the piece's corner is the origin.
        piece_turn = page_turn.copy()
        piece_turn[:, 2] -= (left, top)
        piece = cv2.warpAffine(grey, piece_turn, size, flags=cv2.INTER_LINEAR,
                               borderValue=255)
        pieces.append(cv2.cvtColor(piece, cv2.COLOR_GRAY2BGR))
    return pieces
