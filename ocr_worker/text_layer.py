"""A searchable PDF page from any engine's boxes: the page image, invisible text on top.

Each word is written in text render mode 3 (neither fill nor stroke: invisible, but
searchable and selectable) at its own box, its font size set from the box height and its
width stretched to the box width (``Tz``), so a PDF viewer's search hit and selection
rectangle land on the printed word. Per-word placement matters for Chinese: PP-OCR gives
one box per character, and a whole line written as one run drifts off the printed
characters whenever the engine's spacing differs from the font's.

The font is WenQuanYi Zen Hei, embedded as a subset with a ToUnicode map (reportlab does
both), so every PDF reader -- and ``pdftotext`` -- extracts the right characters. Without
that font file we fall back to the Adobe CID font STSong-Light, which readers know by
name; invisible text needs no glyphs.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from pathlib import Path

import pikepdf
from PIL import Image
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from dms.errors import BadDocumentError
from ocr_worker.results import Word

CJK_FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
_EMBEDDED = "WenQuanYiZenHei"
_CID_FALLBACK = "STSong-Light"
# Where the baseline sits inside a box, as a share of its height from the bottom: Chinese
# characters fill the em square, whose bottom is ~0.12 em below the baseline in CJK fonts.
_DESCENT = 0.12
_INVISIBLE = 3  # PDF text render mode: no fill, no stroke

# Binary streams, not ASCII85 text: reportlab's ASCII85 encoder is pure Python and took
# 0.2 s for every A4 page image (measured), for a file a quarter larger. Every PDF reader
# reads binary streams; ASCII85 only ever served 7-bit mail.
rl_config.useA85 = 0


@functools.lru_cache(maxsize=1)
def text_font() -> str:
    """Register the CJK font once per process (parsing the .ttc takes ~1 s) and name it."""
    if CJK_FONT_FILE.exists():
        pdfmetrics.registerFont(TTFont(_EMBEDDED, str(CJK_FONT_FILE), subfontIndex=0))
        return _EMBEDDED
    pdfmetrics.registerFont(UnicodeCIDFont(_CID_FALLBACK))
    return _CID_FALLBACK


def _lines(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped by the engine's (block, line) keys, in the engine's order."""
    return [list(g) for _, g in itertools.groupby(words, key=lambda w: (w.block, w.line))]


def _write_page(out: Path, page_w: float, page_h: float, words: Sequence[Word], scale: float,
                image: Path | None) -> None:
    font = text_font()
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(out), pagesize=(page_w, page_h), pageCompression=1)
    pdf.setCreator("dms")
    if image is not None:
        pdf.drawImage(str(image), 0, 0, width=page_w, height=page_h)
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


def build_page_pdf(image: Path, words: Sequence[Word], out: Path, *, dpi: int) -> Path:
    """Write a one-page PDF to ``out``: ``image`` filling the page at ``dpi``, and each of
    ``words`` (boxes in pixels of ``image``) as invisible text at its box."""
    try:
        with Image.open(image) as im:
            width_px, height_px = im.size
    except (OSError, ValueError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    scale = 72.0 / dpi  # pixels -> PDF points
    _write_page(out, width_px * scale, height_px * scale, words, scale, image)
    return out


_SCAN = pikepdf.Name("/DmsScan")


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
    layer) with its text layer replaced by ``words``. The image is carried over as it is
    stored there, not decoded and compressed again: that took 0.25 s per A4 page, a third
    of all the work on a Traditional page after recognition. A page PDF that is not one
    image is rebuilt from ``image`` instead."""
    try:
        with Image.open(image) as im:
            width_px, height_px = im.size
    except (OSError, ValueError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    scale = 72.0 / dpi
    page_w, page_h = width_px * scale, height_px * scale
    try:
        with pikepdf.open(page_pdf) as src:
            images = page_images(src.pages[0]) if len(src.pages) == 1 else []
            if len(images) != 1:
                return build_page_pdf(image, words, out, dpi=dpi)
            text_only = out.with_name(out.stem + ".text.pdf")
            _write_page(text_only, page_w, page_h, words, scale, None)
            with pikepdf.open(text_only) as dest:
                page = dest.pages[0]
                if pikepdf.Name.Resources not in page.obj:
                    page.obj[pikepdf.Name.Resources] = pikepdf.Dictionary()
                resources = page.obj[pikepdf.Name.Resources]
                if pikepdf.Name.XObject not in resources:
                    resources[pikepdf.Name.XObject] = pikepdf.Dictionary()
                resources[pikepdf.Name.XObject][_SCAN] = dest.copy_foreign(images[0])
                draw = f"q {page_w:.4f} 0 0 {page_h:.4f} 0 0 cm /DmsScan Do Q\n".encode()
                page.contents_add(pikepdf.Stream(dest, draw), prepend=True)
                dest.save(out)
            text_only.unlink()
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"page PDF {page_pdf.name} unreadable: {exc}") from exc
    return out
