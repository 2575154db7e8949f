"""A searchable PDF page from any engine's boxes: the page image, invisible text on top.

Each word is written in text render mode 3 (neither fill nor stroke: invisible, but
searchable and selectable) at its own box, its font size set from the box height and its
width stretched to the box width (``Tz``), so a PDF viewer's search hit and selection
rectangle land on the printed word. Per-word placement matters for Chinese: PP-OCR gives
one box per character, and a whole line written as one run drifts off the printed
characters whenever the engine's spacing differs from the font's.

The font is WenQuanYi (``hanzi.fonts``), embedded as a subset with a ToUnicode map
(reportlab does both), so every PDF reader -- and ``pdftotext`` -- extracts the right
characters. Without that font file we fall back to the Adobe CID font STSong-Light, which
readers know by name; invisible text needs no glyphs.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path

import pikepdf
from PIL import Image
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from errorkit import BadDocumentError
from hanzi.fonts import reportlab_font
from ocr_worker.pdf_image import KEEP_STREAMS, draw_under, put_image_under_text, scan_drawing
from ocr_worker.results import Word

# Where the baseline sits inside a box, as a share of its height from the bottom: Chinese
# characters fill the em square, whose bottom is ~0.12 em below the baseline in CJK fonts.
_DESCENT = 0.12
_INVISIBLE = 3  # PDF text render mode: no fill, no stroke

# Binary streams, not ASCII85 text: reportlab's ASCII85 encoder is pure Python (0.2 s for
# an A4 page image, measured). Every PDF reader reads binary streams.
rl_config.useA85 = 0


def text_font() -> str:
    """Register the CJK font once per process (parsing the .ttc takes ~1 s) and name it."""
    return reportlab_font(cid_fallback=True)


def _lines(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped by the engine's (block, line) keys, in the engine's order, with each
    run of Latin letters and digits joined into one word (see ``join_latin_runs``)."""
    return [join_latin_runs(list(g))
            for _, g in itertools.groupby(words, key=lambda w: (w.block, w.line))]


_LATIN = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-/.]*\Z")
# Pieces closer than this share of their height are one run: the spacing of characters
# within a printed number, well under a space between words (~0.35 of a digit's height).
_RUN_GAP = 0.3
# Between two words of letters: a letter gap inside a word is under a tenth of the height.
_WORD_GAP = 0.15


def _word(text: str) -> bool:
    return len(text) >= 3 and text.isascii() and text.isalpha()


def join_latin_runs(line: list[Word]) -> list[Word]:
    """Join neighbouring Latin/digit pieces of a line into one word with their joint box.

    Engines split a contract or ID number into pieces (PP-OCR boxes per character, a
    gap read as a word break); written as separate runs, a PDF reader extracts
    "SD GD HT2020075456" and a viewer's find misses the number. Written as one run,
    stretched over the joint box, it is one word again."""
    out: list[Word] = []
    for w in line:
        prev = out[-1] if out else None
        if prev is not None and _LATIN.match(prev.text) and _LATIN.match(w.text):
            px0, py0, px1, py1 = prev.bbox
            x0, y0, x1, y1 = w.bbox
            height = max(py1 - py0, y1 - y0, 1)
            # Two words of three or more letters keep even a narrow space: the engines'
            # boxes of Latin words are tight on the ink (PP-OCR's through
            # ocr_worker/latin_spaces.py), so such a gap is a printed space. Identifier
            # prefixes split by an engine are letter pairs ("SD GD HT...") or mixed.
            limit = _WORD_GAP if _word(prev.text) and _word(w.text) else _RUN_GAP
            if x0 - px1 <= limit * height and x1 > px0:
                out[-1] = Word(prev.text + w.text, min(prev.conf, w.conf),
                               (min(px0, x0), min(py0, y0), max(px1, x1), max(py1, y1)),
                               prev.block, prev.line)
                continue
        out.append(w)
    return out


def _write_text_page(out: Path, page_w: float, page_h: float, words: Sequence[Word],
                     scale: float) -> None:
    font = text_font()
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(out), pagesize=(page_w, page_h), pageCompression=1)
    pdf.setCreator("dms")
    for line in _lines(words):
        text = pdf.beginText()
        text.setTextRenderMode(_INVISIBLE)
        for w in line:
            x0, y0, x1, y1 = w.bbox
            if not w.text or x1 <= x0 or y1 <= y0:
                continue
            size = max(1.0, (y1 - y0) * scale)
            natural = pdfmetrics.stringWidth(w.text, font, size)
            text.setFont(font, size)
            text.setHorizScale(100.0 * (x1 - x0) * scale / natural if natural > 0 else 100.0)
            text.setTextOrigin(x0 * scale, page_h - y1 * scale + _DESCENT * size)
            text.textOut(w.text)
        pdf.drawText(text)
    pdf.showPage()
    pdf.save()


def _page_size(image: Path, dpi: int) -> tuple[float, float, float]:
    try:
        with Image.open(image) as im:
            width_px, height_px = im.size
    except (OSError, ValueError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    scale = 72.0 / dpi  # pixels -> PDF points
    return width_px * scale, height_px * scale, scale


def build_page_pdf(image: Path, words: Sequence[Word], out: Path, *, dpi: int,
                   under: Path | None = None) -> Path:
    """Write a one-page PDF to ``out``: ``image`` (or ``under``) filling the page of
    ``image``'s size at ``dpi``, and each of ``words`` (boxes in pixels of ``image``) as
    invisible text at its box. The image is embedded as it is stored where it can be
    (``ocr_worker/pdf_image.py``)."""
    page_w, page_h, scale = _page_size(image, dpi)
    _write_text_page(out, page_w, page_h, words, scale)
    return put_image_under_text(out, under or image, out)


def page_images(page: pikepdf.Page) -> list[pikepdf.Object]:
    """The image XObjects a page draws directly (not through form XObjects)."""
    resources = page.obj.get(pikepdf.Name.Resources)
    xobjects = resources.get(pikepdf.Name.XObject) if resources is not None else None
    if xobjects is None:
        return []
    return [x for x in xobjects.values() if x.get(pikepdf.Name.Subtype) == pikepdf.Name.Image]


def relayer_page_pdf(page_pdf: Path, image: Path, words: Sequence[Word], out: Path, *,
                     dpi: int) -> Path:
    """``page_pdf`` (an engine's one-page PDF: one image filling the page, its own text
    layer) with its text layer replaced by ``words``. The image stream is carried over
    byte for byte. A page PDF that is not one image is rebuilt from ``image`` instead."""
    page_w, page_h, scale = _page_size(image, dpi)
    try:
        with pikepdf.open(page_pdf) as src:
            images = page_images(src.pages[0]) if len(src.pages) == 1 else []
            if len(images) != 1:
                return build_page_pdf(image, words, out, dpi=dpi)
            draw = scan_drawing(src.pages[0])  # a turned scan stays turned
            _write_text_page(out, page_w, page_h, words, scale)
            with pikepdf.open(out, allow_overwriting_input=True) as dest:
                draw_under(dest, dest.copy_foreign(images[0]), draw)
                dest.save(out, **KEEP_STREAMS)
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"page PDF {page_pdf.name} unreadable: {exc}") from exc
    return out
