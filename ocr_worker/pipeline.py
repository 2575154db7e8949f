"""The one orchestrator: run the page steps in order, time them, build a PageResult.

Like OCRmyPDF's ``_pipeline.py`` the sequence is data (:data:`PAGE_STEPS`); reorder or
extend the list, or pass ``steps=`` for experiments and benchmarks.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from errorkit import OcrError
from ocr_worker import steps as s
from ocr_worker.orientation_steps import confirm_orientation, detect_orientation
from ocr_worker.fallback_step import read_again
from ocr_worker.page_script import choose_script
from ocr_worker.results import PageResult
from ocr_worker.steps import PageContext, Step

__all__ = ["PAGE_STEPS", "OcrSettings", "PageContext", "make_context", "process_page"]

log = logging.getLogger(__name__)


class OcrSettings(Protocol):
    """What the pipeline reads from the deployment's settings (``dms.settings.Settings``
    has it); a protocol, so this library does not import the application."""

    @property
    def work_dir(self) -> Path: ...

    @property
    def ocr_languages(self) -> str: ...

    @property
    def ocr_dpi(self) -> int: ...

    @property
    def ocr_page_timeout_s(self) -> int: ...

    @property
    def ocr_engine(self) -> str: ...

    @property
    def ocr_orientation_engine(self) -> str: ...

    @property
    def ocr_traditional_variant(self) -> str: ...

    @property
    def ocr_low_confidence(self) -> float: ...

# clean runs before the geometry steps: an uneven background (a shadow, a yellowed edge)
# breaks the Otsu masks that orientation and deskew estimate from (measured: a 0.2° phantom
# skew and a wrong text-axis guess on a page with a left-to-right lighting gradient).
PAGE_STEPS: tuple[Step, ...] = (
    s.normalise, s.clean, detect_orientation, s.deskew, choose_script, s.restore_strokes,
    s.recognise, confirm_orientation, read_again, s.harmonise_script,
)

# A page with fewer recognised characters than this is "almost empty": maybe blank,
# maybe a photo or a failed scan -- a human should look.
MIN_TEXT_CHARS = 5
# An existing PDF text layer this long counts as "substantial" (see rasterise docstring).
SUBSTANTIAL_EXISTING_TEXT = 20


def make_context(
    image: Path, settings: OcrSettings, *, page_no: int, work_dir: Path | None = None,
    engine: str | None = None, languages: str | None = None,
) -> PageContext:
    """A PageContext from settings; the work dir defaults to ``settings.work_dir/<stem>``,
    the engine to the deployment's ``settings.ocr_engine``."""
    return PageContext(
        work_dir=work_dir or settings.work_dir / image.stem,
        page_no=page_no,
        languages=languages or settings.ocr_languages,
        dpi=settings.ocr_dpi,
        timeout=float(settings.ocr_page_timeout_s),
        engine=engine or settings.ocr_engine,
        orientation_engine=settings.ocr_orientation_engine,
        traditional_variant=settings.ocr_traditional_variant,
        low_confidence=settings.ocr_low_confidence,
    )


def process_page(
    image: Path,
    ctx: PageContext,
    settings: OcrSettings,
    *,
    existing_text: str | None = None,
    steps: Sequence[Step] = PAGE_STEPS,
) -> PageResult:
    """OCR one page image. A step must set ``ctx.output`` (the recognise step).

    ``existing_text`` is the page's text from the source PDF's own layer, if any. We keep
    the OCR text as ``text`` either way; when the OCR confidence is low but the PDF came with
    substantial text, the page is flagged ``needs_review`` (a human picks) -- reason noted.
    """
    timings: dict[str, float] = {}
    current = image
    i = 0
    while i < len(steps):
        step = steps[i]
        t0 = time.perf_counter()
        current = step(current, ctx)
        timings[step.__name__] = round(timings.get(step.__name__, 0.0)
                                       + time.perf_counter() - t0, 3)
        i += 1
        if ctx.restart is not None:
            # A step found the page turned after all (confirm_orientation): the steps
            # after the named one run again on the turned image.
            current, after = ctx.restart
            ctx.restart = None
            names = [st.__name__ for st in steps]
            if after not in names:
                raise OcrError(f"page {ctx.page_no}: step {step.__name__} asked to restart "
                               f"after {after}, which the step list does not have")
            i = 1 + names.index(after)
    out = ctx.output
    if out is None or out.pdf is None:
        raise OcrError(f"page {ctx.page_no}: the step list has no recognise step")

    low_conf = out.mean_confidence < settings.ocr_low_confidence
    almost_empty = len("".join(out.text.split())) < MIN_TEXT_CHARS
    # The read_again step judged the reading against the page's ink (empty_with_ink,
    # short_for_ink, low_confidence, fallback_used:<how>); without it, the text alone.
    quality = ctx.notes.get("quality")
    reasons: list[str] = list(quality["reasons"]) if quality else []
    if low_conf and "low_confidence" not in reasons:
        reasons.append("low_confidence")
    if almost_empty and "empty_with_ink" not in reasons:
        reasons.append("almost_no_text")
    if "osd" in ctx.notes:  # no crop reading won clearly: OSD or "as it is" decided
        reasons.append("orientation_uncertain")
    if existing_text and len("".join(existing_text.split())) >= SUBSTANTIAL_EXISTING_TEXT and (
        low_conf or almost_empty
    ):
        reasons.append("existing_text_layer_may_be_better")
    notes = dict(ctx.notes)
    if reasons:
        notes["review_reasons"] = reasons
    result = PageResult(
        page_no=ctx.page_no,
        text=out.text,
        words=out.words,
        mean_confidence=out.mean_confidence,
        rotation=ctx.rotation,
        skew=ctx.skew,
        # A re-read that won is noted but needs no person if the reading is now plausible.
        needs_review=any(not r.startswith("fallback_used:") for r in reasons),
        engine=ctx.engine,
        languages=ctx.languages,
        dpi=ctx.dpi,
        page_pdf=out.pdf,
        processed_image=ctx.recognised_image or image,
        timings=timings,
        existing_text=existing_text,
        notes=notes,
    )
    log.info(
        "page %s: conf %.1f rot %s skew %.2f review %s in %.2fs",
        ctx.page_no, result.mean_confidence, result.rotation, result.skew,
        result.needs_review, sum(timings.values()),
    )
    return result
