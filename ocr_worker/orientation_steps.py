"""The orientation steps (``(src: Path, ctx: PageContext) -> Path``, sequenced by
:mod:`ocr_worker.pipeline`): ``detect_orientation`` before the page is read and
``confirm_orientation`` after, when the page's own reading was left to confirm it. The
rules they apply are pure functions in :mod:`ocr_worker.orientation`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ocr_worker.engine import tesseract_osd
from ocr_worker.engine_api import EngineOutput
from ocr_worker.engines import get_engine
from ocr_worker.line_direction import direction_votes
from ocr_worker.orientation import (
    AXIS_MARGIN,
    CONF_GOOD,
    CONF_MARGIN,
    FLIP_RATIO,
    MIN_VOTES,
    OSD_MIN_CONF,
    SIDEWAYS_CV,
    choose_turn,
    decisive_turn,
    line_axis,
    lines_confirmed_by_rows,
    prefer_second_look,
    reads_upright,
    row_profile_cv,
    second_look,
    text_crop,
    turn_from_lines,
    votes_clear,
)
from ocr_worker.ppocr_detection import detect_lines, line_evidence
from ocr_worker.ppocr_models import ENGINE_MODELS
from ocr_worker.steps import (
    InkAnalysis,
    PageContext,
    ink_mask,
    rotate_right_angle,
    save_grey,
    skew_angle,
)

def _orientation_read(grey: np.ndarray, rotation: int, ctx: PageContext) -> EngineOutput:
    path = ctx.out_path(f"2-orient-{rotation}")
    save_grey(text_crop(rotate_right_angle(grey, rotation), ctx.dpi), path, ctx.dpi)
    # The first language alone is enough to tell upright from not, at a third of the cost
    # of the usual chi_sim+chi_tra+eng.
    reader = ("tesseract" if ctx.orientation_engine in (ORIENT_AUTO, ORIENT_BY_LINES)
              else ctx.orientation_engine)
    out = get_engine(reader).recognise(
        path, languages=ctx.languages.split("+")[0], dpi=ctx.dpi, timeout=ctx.remaining(),
        layout="block",
    )
    return out


def detect_orientation(src: Path, ctx: PageContext) -> Path:
    """Make the page upright (0/90/180/270) without trusting tesseract OSD blindly.

    For a page a PP-OCR engine reads (orientation ``auto`` or ``lines``): the detected
    text lines decide (``_orient_by_lines``). Otherwise the decision is by OCR confidence
    of a small dense crop read as *horizontal* lines (layout "block"), which collapses for
    sideways and upside-down text (``_turn_by_crop_reads``).

    A page tesseract itself reads is not crop-read at all under ``auto`` when PP-OCR's
    direction classifier, voting over pieces of its lines (``line_direction``, ~0.05 CPU
    s; the page turned a quarter first if its row profile says the lines run down it),
    says clearly which way is up: the page is turned so and its own reading confirms it
    (``confirm_orientation``); only a page whose reading is not surely upright is judged
    by crop reads then. Crop reads cost 0.15-0.4 CPU s on an upright page, 0.6-0.9 s on a
    sideways one, up to a fifth of the whole pipeline; the reading is needed anyway. An
    unclear vote goes to the crop reads first: a page read upside down costs a whole
    wasted reading (2-4 s: tesseract labours over text upside down).
    """
    grey = ctx.grey(src)
    mask = ink_mask(grey, ctx.dpi).astype(np.uint8)
    ctx.analysis = InkAnalysis(mask, rotation=ctx.rotation)
    if ctx.orientation_engine == ORIENT_BY_LINES or (
            ctx.orientation_engine == ORIENT_AUTO and ctx.engine in ENGINE_MODELS):
        # No blank test: the detector finds the lines of a page whose ink the Otsu mask
        # below misses (a faint low-contrast 150-dpi page, hard corpus seed 23: "blank",
        # so left on its side), and finds none on a blank page.
        return _orient_by_lines(src, grey, ctx, mask)
    if mask.mean() < 0.002:  # blank page: nothing to orient by
        ctx.notes["orientation"] = "blank"
        return src
    cv_h = row_profile_cv(mask)
    cv_v = row_profile_cv(np.ascontiguousarray(np.rot90(mask)))
    ctx.notes["row_cv"] = [round(cv_h, 2), round(cv_v, 2)]
    # Sideways pages measure 3-4x more variation across than down; forms and tables can
    # measure about the same both ways, and most pages are upright: those start upright.
    sideways = cv_v > SIDEWAYS_CV * cv_h
    order = [90, 270, 0, 180] if sideways else [0, 180, 90, 270]
    if ctx.orientation_engine == ORIENT_AUTO and ctx.engine == ORIENT_READ_BY:
        turn = _turn_by_direction_votes(grey, mask, sideways, ctx)
        if turn is not None:
            ctx.orientation_pending = src
            ctx.notes["orientation"] = f"{turn} by the direction vote, unless the page's " \
                                       "reading says otherwise"
            return _turned(src, grey, ctx, turn)
    return _turned(src, grey, ctx, _turn_by_crop_reads(src, grey, ctx, order))


def _turn_by_direction_votes(grey: np.ndarray, mask: np.ndarray, sideways: bool,
                             ctx: PageContext) -> int | None:
    """The turn PP-OCR's direction classifier votes for clearly over pieces of the page's
    lines (``line_direction``), the page first turned a quarter when its row profile says
    its lines run down it; None when the vote is not clear."""
    base = 90 if sideways else 0
    if sideways:
        grey, mask = rotate_right_angle(grey, 90), rotate_right_angle(mask, 90)
    skew = skew_angle(mask)[0]
    if ctx.analysis is not None:  # deskew takes it for the page turned to base or base+180
        ctx.analysis.skew, ctx.analysis.skew_rotation = skew, ctx.analysis.rotation + base
    v0, v180, pieces = direction_votes(grey, mask, skew)
    ctx.notes["direction_votes"] = [round(v0, 1), round(v180, 1), pieces]
    if v0 >= MIN_VOTES and v0 >= FLIP_RATIO * v180:
        return base
    if v180 >= MIN_VOTES and v180 >= FLIP_RATIO * v0:
        return (base + 180) % 360
    return None


def _turned(src: Path, grey: np.ndarray, ctx: PageContext, rotation: int) -> Path:
    ctx.rotation = rotation
    if rotation == 0:
        return src
    return ctx.keep(rotate_right_angle(grey, rotation), ctx.out_path("2-orient"))


def _turn_by_crop_reads(src: Path, grey: np.ndarray, ctx: PageContext,
                        order: list[int]) -> int:
    """The turn by crop reads, ``order`` the candidates most likely first:

    1. A candidate at >= 70, or with enough characters read surely (``reads_upright``),
       wins at once (an upright page costs one small OCR run); a favoured-axis winner at
       >= 45 that beats its opposite by 20 wins too.
    2. Otherwise all four are read.
    3. Anything but a sure upright read is checked against the axis of the page's text
       lines (PP-OCR detection, ``orientation.choose_turn``): a winner off that axis is
       dropped for the better of the axis' two turns, or upright.
    4. When the lines show no axis, a clear winner (by 10) is taken, a tie goes to OSD
       if it agrees with one of the tied, else the page stays as it is.
    """
    confs: dict[int, float] = {}
    rotation: int | None = None
    for r in order:
        read = _orientation_read(grey, r, ctx)
        confs[r] = read.mean_confidence
        if reads_upright(read.mean_confidence, read.words):
            rotation = r
            break
        if len(confs) == 2:
            a, b = order[0], order[1]
            best, other = (a, b) if confs[a] >= confs[b] else (b, a)
            if confs[best] >= CONF_GOOD and confs[best] - confs[other] >= AXIS_MARGIN:
                rotation = best
                break
    if rotation != 0:
        # Not a sure upright read: the text lines' axis checks the crop reads' verdict
        # (orientation.choose_turn); the turns on that axis are read if they were not.
        ev = line_evidence(grey)
        ctx.notes["orientation_lines"] = [round(ev.horizontal), round(ev.vertical),
                                          round(ev.votes_0, 1), round(ev.votes_180, 1),
                                          ev.lines]
        axis = line_axis(ev)
        if axis is not None and rotation not in axis:
            for r in axis:
                if r not in confs:
                    confs[r] = _orientation_read(grey, r, ctx).mean_confidence
        rotation, ctx.notes["orientation"] = choose_turn(confs, rotation, ev)
    ctx.notes["orientation_conf"] = {str(k): v for k, v in confs.items()}
    if rotation is None:
        ranked = sorted(confs, key=lambda r: confs[r], reverse=True)
        rotation = ranked[0]
        if confs[ranked[0]] - confs[ranked[1]] < CONF_MARGIN:
            tied = [r for r in ranked if confs[ranked[0]] - confs[r] < CONF_MARGIN]
            osd = tesseract_osd(ctx.file(src), dpi=ctx.dpi, timeout=ctx.remaining())
            ctx.notes["osd"] = None if osd is None else [osd.rotate, osd.confidence]
            if osd is not None and osd.rotate in tied and osd.confidence >= OSD_MIN_CONF:
                rotation = osd.rotate
            else:
                rotation = 0
    return rotation


def confirm_orientation(src: Path, ctx: PageContext) -> Path:
    """After ``recognise``: a page turned by the direction vote without crop reads
    (``detect_orientation``) is confirmed by its own reading. A reading that is not surely
    upright has the crop reads judge the page as it was before orientation and deskew
    (the voted turn first); another turn they find restarts the page's steps after
    orientation on the page so turned (``ctx.restart``). Only a wrong vote costs a wasted
    reading; a page the vote gets right -- 86 of 86 page-turns of the sample corpus --
    no orientation reading at all."""
    pending, ctx.orientation_pending = ctx.orientation_pending, None
    out = ctx.output
    if pending is None or out is None:
        return src
    if reads_upright(out.mean_confidence, out.words):
        ctx.notes["orientation"] = f"{ctx.rotation}, by the direction vote and the page's " \
                                   "reading"
        return src
    grey = ctx.grey(pending)
    voted = ctx.rotation
    order = [voted, (voted + 180) % 360, (voted + 90) % 360, (voted + 270) % 360]
    rotation = _turn_by_crop_reads(pending, grey, ctx, order)
    if rotation == voted:
        ctx.notes["orientation"] = f"{voted}, by crop reads after the page's reading"
        return src
    ctx.notes["orientation"] = f"turned {rotation} after the page's reading"
    ctx.skew = 0.0
    ctx.restart = (_turned(pending, grey, ctx, rotation), "detect_orientation")
    return src


ORIENT_BY_LINES = "lines"
# "lines" for a page a PP-OCR engine reads (its own detection, reused for reading), crop
# reads by tesseract for a page tesseract reads.
ORIENT_AUTO = "auto"
# The engine whose page reading can stand in for the crop reads (the crop reads are its
# own readings, of a part of the page, with the first language alone).
ORIENT_READ_BY = "tesseract"


def _orient_by_lines(src: Path, grey: np.ndarray, ctx: PageContext,
                     mask: np.ndarray) -> Path:
    """The turn from the page's detected text lines: their axis (0/180 against 90/270)
    and a vote of the direction classifier over up to 40 of them (0 against 180). On
    sparse and faint pages, where a crop read is mostly noise, few lines mean the page
    stays upright instead of being turned on a guess. For a page a PP-OCR engine reads,
    the lines are its own detector's at reading size, kept for the recognise step (so
    judging the orientation costs the decision only); for tesseract, one detection on a
    960-px copy."""
    models = ENGINE_MODELS.get(ctx.engine)
    detection = detect_lines(grey, models) if models else None
    ev = detection.evidence() if detection is not None else line_evidence(grey)
    if models and ctx.notes.get("bilevel") and not votes_clear(ev):
        # A faint bilevel page's broken strokes: a second look with the ink grown; its
        # lines (which the reading then uses) only if their vote is clear.
        again = detect_lines(second_look(grey), models)
        ctx.notes["second_look"] = [round(again.evidence().votes_0, 1),
                                    round(again.evidence().votes_180, 1)]
        if prefer_second_look(ev, again.evidence()):
            detection, ev = again, again.evidence()
    rotation, why = turn_from_lines(ev)
    cv_h, cv_v = row_profile_cv(mask), row_profile_cv(np.ascontiguousarray(np.rot90(mask)))
    ctx.notes["row_cv"] = [round(cv_h, 2), round(cv_v, 2)]
    if not lines_confirmed_by_rows(ev, rotation, cv_h, cv_v):
        rotation, why = _confirm_by_crop_reads(grey, ctx, rotation, why)
    # A bilevel page turned a quarter is detected again, upright, by the reading: on its
    # side the detector splits a faint scan's dotted lines into short pieces and drops
    # some (hard corpus seed 23, hard_0017: 9 boxes, half of 合同编号 and the footer
    # gone, CER 0.44; detected upright 0.24). Faint bilevel pages on their side, seeds 11
    # and 23, read from the turned lines / detected again: 0.536/0.218, 0.608/0.507,
    # 0.440/0.240, 0.636/0.606, 0.024/0.003, 0.027/0.023, 0.108/0.155 (sparse), 0.0/0.0.
    # Grey pages on their side keep the turned lines (within ~0.02 either way; a second
    # detection costs ~2 CPU s a page).
    if detection is not None and not (ctx.notes.get("bilevel") and rotation % 180):
        ctx.detection = detection.turned(rotation)
    ctx.notes["orientation"] = why
    ctx.notes["orientation_lines"] = [round(ev.horizontal), round(ev.vertical),
                                      round(ev.votes_0, 1), round(ev.votes_180, 1), ev.lines]
    ctx.rotation = rotation
    if rotation == 0:
        return src
    return ctx.keep(rotate_right_angle(grey, rotation), ctx.out_path("2-orient"))


def _confirm_by_crop_reads(grey: np.ndarray, ctx: PageContext, rotation: int,
                           why: str) -> tuple[int, str]:
    """One crop read at the lines' turn confirms it (about 0.1 CPU s). When it does not
    read surely, the other turns are read and a decisive one wins (``decisive_turn``): on
    a dense sideways contract page of the sample corpus the detector merged characters of
    neighbouring columns into horizontal boxes and the lines said upright, while the crop
    reads said 270 at 77.6 against 8.5-15.1. On faint pages, where every crop read is
    noise, the lines' turn stands."""
    first = _orientation_read(grey, rotation, ctx)
    if reads_upright(first.mean_confidence, first.words):
        return rotation, why
    confs = {rotation: first.mean_confidence}
    for r in (0, 90, 180, 270):
        if r != rotation:
            confs[r] = _orientation_read(grey, r, ctx).mean_confidence
    ctx.notes["orientation_conf"] = {str(k): v for k, v in confs.items()}
    turn = decisive_turn(confs)
    if turn is None or turn == rotation:
        return rotation, why
    return turn, "crop read, decisive against the lines"
