"""The ``read_again`` step: the fallback chain of :mod:`ocr_worker.fallback` run on a page
whose reading is poor for its ink. Runs after ``recognise`` and before the one-script
step; a page whose first reading is plausible costs one ink measurement (~20 ms)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ocr_worker import fallback as fb
from ocr_worker.engine_api import EngineOutput
from ocr_worker.engines import get_engine
from ocr_worker.results import Word
from ocr_worker.steps import PageContext, place_scan, save_grey

# A re-read is not started with less than this left of the page's time budget: the page
# keeps the reading it has rather than failing on a timeout.
_MIN_SECONDS_LEFT = 20.0


def _scaled(words: list[Word], scale: float) -> list[Word]:
    if scale == 1.0:
        return words
    return [replace(w, bbox=(round(w.bbox[0] / scale), round(w.bbox[1] / scale),
                             round(w.bbox[2] / scale), round(w.bbox[3] / scale)))
            for w in words]


def read_again(src: Path, ctx: PageContext) -> Path:
    """Judge the reading; if poor, read again (re-binarised, other engine, upsampled) and
    keep the most plausible. Notes ``ctx.notes['quality']`` (the final judgement's
    reasons, ``fallback_used:<how>`` when a re-read won) for the review flag."""
    out, image = ctx.output, ctx.recognised_image
    if out is None or image is None:
        return src
    grey = ctx.grey(image)
    ink = fb.measure_ink(grey, ctx.dpi)
    best = fb.judge(out, ink, fb.low_confidence_for(ctx.engine, ctx.low_confidence))
    ctx.notes["ink"] = [round(ink.glyph_mm2), round(ink.share, 4)]
    ctx.notes["quality"] = {"reasons": list(best.reasons), "chars": best.chars,
                            "expected": best.expected, "score": best.score}
    if not best.poor:
        return src
    bilevel = bool(ctx.notes.get("bilevel"))
    best_read: tuple[str, EngineOutput, Path, float] | None = None
    base, base_engine = grey, ctx.engine
    tries: list[tuple[str, Callable[[], np.ndarray], str, float]] = [
        ("rebinarise", lambda: fb.rebinarise(grey, ctx.dpi, bilevel), ctx.engine, 1.0),
        ("other_engine", lambda: base, fb.other_engine(ctx.engine), 1.0),
    ]
    if ctx.dpi < fb.UPSAMPLE_BELOW_DPI:
        tries.append(("upsample", lambda: fb.upsample(base), "", fb.UPSAMPLE))
    tried = []
    for how, make, engine, scale in tries[: fb.MAX_EXTRA_READS]:
        if ctx.remaining() < _MIN_SECONDS_LEFT:
            break
        pixels = make()
        engine = engine or base_engine  # upsample: whichever engine reads best so far
        dpi = round(ctx.dpi * scale)
        path = save_grey(pixels, ctx.out_path(f"5-{how}"), dpi)
        read = get_engine(engine).recognise(path, languages=ctx.languages, dpi=dpi,
                                            timeout=ctx.remaining(), pdf=True,
                                            under=ctx.source_image)
        j = fb.judge(read, ink, fb.low_confidence_for(engine, ctx.low_confidence))
        tried.append([how, engine, j.chars, j.score])
        if j.score > best.score + fb.MIN_GAIN:
            best = j
            unscaled = path if scale == 1.0 else save_grey(
                base, ctx.out_path(f"5-{how}-base"), ctx.dpi)
            best_read = (f"{how}:{engine}", read, unscaled, scale)
            if scale == 1.0:
                base, base_engine = pixels, engine
        if not j.poor and best is j:
            break
    ctx.notes["fallback"] = tried
    if best_read is None:
        return src
    how, read, unscaled, scale = best_read
    assert read.pdf is not None
    place_scan(read.pdf, ctx)
    ctx.output = replace(read, words=_scaled(read.words, scale))
    ctx.recognised_image = unscaled
    ctx.notes["quality"] = {"reasons": [*best.reasons, f"fallback_used:{how}"],
                            "chars": best.chars, "expected": best.expected,
                            "score": best.score}
    return read.pdf
