"""Which Han script a page is printed in, before tesseract reads it: so tesseract reads it
with that script's model alone.

Given ``chi_sim+chi_tra+eng`` tesseract reads every word it is not sure of once per
language (``Tesseract::classify_word_and_language``) -- on Chinese text, most words. On
scanner_bench's 16 pages (``benchmarks/scanner_bench.py --engine tesseract``) the three
languages cost 1.89 CPU s a page; the page's own script and ``eng`` 1.36 s, at a lower CER
(0.27 -> 0.23: the other script's model picks wrong glyphs for smudged characters).

The script is read off a few pieces of the page's lines (``line_direction.line_pieces``,
the pieces the direction classifier votes on) by PP-OCRv5's recogniser, which reads both
scripts and is loaded in a tesseract worker already (its direction classifier belongs to
the same set): three pieces cost ~0.12 CPU s. Its reading is counted with
``hanzi.folding.count_scripts``; on those 16 pages (5 Traditional) twelve pieces judged
every page right, Traditional pages 14-25 Traditional-only characters against 0-3
Simplified-only, Simplified pages 0 against 9-26. A page whose pieces do not say clearly
keeps every language the deployment configured, as before: reading a Simplified page with
``chi_tra`` alone costs far more CER (0.11 -> 0.40) than the sample saves.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from errorkit import ExternalToolError
from hanzi.folding import ScriptCounts, count_scripts
from ocr_worker.line_direction import DIRECTION_MODELS, line_pieces, piece_images, straightened
from ocr_worker.ppocr_models import ENGINE_MODELS, load_model
from ocr_worker.steps import PageContext, ink_mask

# Tesseract's model for each Han script. A deployment's languages name one or both.
SCRIPT_LANGUAGES = {"simplified": "chi_sim", "traditional": "chi_tra"}
# Pieces read per round, and at most: most pages are decided by the first round.
PIECES_PER_ROUND = 3
MAX_PIECES = 9
# A script wins with at least this many characters only it has, and this many times as
# many as the other script's: the recogniser writes a few Traditional characters in
# Simplified form (0-3 a Traditional page, above), a Simplified page gave none the other way.
MIN_SCRIPT_CHARS = 3
WIN_RATIO = 4


@dataclass(frozen=True)
class ScriptSample:
    script: str | None  # "simplified", "traditional", or None: not clear
    counts: ScriptCounts
    pieces: int  # pieces read


def judged_script(counts: ScriptCounts) -> str | None:
    t, s = counts.traditional_only, counts.simplified_only
    if t >= MIN_SCRIPT_CHARS and t >= WIN_RATIO * s:
        return "traditional"
    if s >= MIN_SCRIPT_CHARS and s >= WIN_RATIO * t:
        return "simplified"
    return None


def sample_script(grey: np.ndarray, mask: np.ndarray, models: str = DIRECTION_MODELS
                  ) -> ScriptSample:
    """The script of the upright, straight page ``grey`` judged from the recogniser's
    reading of the fullest pieces of its lines (``mask``: its ink mask, 1 = ink, at a
    smaller scale)."""
    boxes = line_pieces(mask)[:MAX_PIECES]
    text, read = "", 0
    counts = count_scripts("")
    model = load_model(models)
    while read < len(boxes):
        batch = boxes[read:read + PIECES_PER_ROUND]
        try:
            lines, _ = model.text_rec(piece_images(grey, mask.shape, batch), False)
        except Exception as exc:  # onnxruntime raises its own types
            raise ExternalToolError(f"ppocr recogniser failed on line pieces: {exc}") from exc
        text += "".join(str(line[0]) for line in lines)
        read += len(batch)
        counts = count_scripts(text)
        if judged_script(counts) is not None:
            break
    return ScriptSample(judged_script(counts), counts, read)


def languages_for(languages: str, script: str | None) -> str:
    """``languages`` (tesseract's ``a+b+c``) without the other Han script's model when the
    page's ``script`` is known and the deployment reads both; otherwise as they are."""
    names = languages.split("+")
    if script is None or not set(SCRIPT_LANGUAGES.values()) <= set(names):
        return languages
    other = {v for k, v in SCRIPT_LANGUAGES.items() if k != script}
    return "+".join(n for n in names if n not in other)


def choose_script(src: Path, ctx: PageContext) -> Path:
    """The page step: before tesseract reads the upright, straight page ``src``, narrow
    ``ctx.languages`` to the page's script when its line pieces say it clearly (noted as
    ``ctx.notes['script_sample']``). A PP-OCR engine reads both scripts with one model:
    its pages are left alone."""
    sampled = ctx.notes.get("script_sample")
    # A page turned after its reading (confirm_orientation) comes here again: it is judged
    # afresh, from the deployment's languages.
    configured = sampled["configured"] if sampled else ctx.languages
    if ctx.engine in ENGINE_MODELS or languages_for(configured, "simplified") == configured:
        return src
    grey = ctx.grey(src)
    if ctx.analysis is not None:  # the orientation step's mask, turned and straightened
        mask = straightened(ctx.analysis.mask_at(ctx.rotation), ctx.skew)
    else:
        mask = ink_mask(grey, ctx.dpi).astype(np.uint8)
    sample = sample_script(grey, mask)
    ctx.languages = languages_for(configured, sample.script)
    ctx.notes["script_sample"] = {
        "configured": configured, "script": sample.script, "pieces": sample.pieces,
        "traditional_only": sample.counts.traditional_only,
        "simplified_only": sample.counts.simplified_only}
    return src
