"""Write rendered documents the way scanners and office software write them."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from dms.sample_data.document import RenderedDocument
from hanzi.fonts import reportlab_font

FORMATS = ("pdf", "tiff", "jpeg", "png")
MULTI_PAGE = ("pdf", "tiff")
EXT = {"pdf": "pdf", "tiff": "tif", "jpeg": "jpg", "png": "png"}
DPI = (300, 300)


def save_document(doc: RenderedDocument, path: Path, fmt: str) -> Path:
    """Save ``doc`` as an image-only ``pdf``/``tiff`` (all pages) or ``jpeg``/``png``
    (first page only: use those for one-page documents). DPI metadata is 300."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = doc.pages
    try:
        _save(pages, path, fmt, doc.bilevel)
    finally:
        # Pillow leaves the last encoder's settings on the images (encoderconfig), and
        # the next save in another format then crashes: drop them
        for p in pages:
            for attr in ("encoderinfo", "encoderconfig"):
                if hasattr(p, attr):
                    delattr(p, attr)
    return path


def _save(pages: list[Image.Image], path: Path, fmt: str, bilevel: bool) -> None:
    if fmt == "pdf":
        # Pillow embeds greyscale/colour pages as JPEG and bilevel pages as CCITT
        # (or flate): the same encodings as a scanner's "scan to PDF"
        pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=300.0)
    elif fmt == "tiff":
        compression = "group4" if bilevel else "tiff_lzw"
        pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:],
                      compression=compression, dpi=DPI)
    elif fmt == "jpeg":
        first = pages[0] if pages[0].mode in ("L", "RGB") else pages[0].convert("L")
        first.save(path, "JPEG", quality=85, dpi=DPI)
    elif fmt == "png":
        pages[0].save(path, "PNG", dpi=DPI, compress_level=1)
    else:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")


def save_text_pdf(doc: RenderedDocument, path: Path) -> Path:
    """A "born-digital" PDF of ``doc``: real text (with a text layer that extraction
    tools can read, one PDF page per rendered page, same lines), no images."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A font reportlab can embed (TrueType outlines; the Noto .ttc files are CFF).
    font = reportlab_font(cid_fallback=True)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(doc.doc_type)
    width, height = A4
    for truth in doc.truth:
        lines = truth.lines
        step = min(11.0 * 1.7, (height - 144) / max(len(lines), 1))  # every line must fit
        y = height - 72
        for i, line in enumerate(lines):
            size = 18.0 if i < 3 and len(line) <= 8 and step > 20 else min(11.0, step / 1.3)
            size = min(size, size * (width - 144) / max(stringWidth(line, font, size), 1))
            c.setFont(font, size)
            c.drawString(72, y, line)
            y -= max(step, size * 1.3)
        c.showPage()
    c.save()
    return path


def open_pages(path: Path) -> list[Image.Image]:
    """All frames of an image file (used by tests and benchmarks)."""
    out = []
    with Image.open(path) as im:
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append(im.copy())
    return out
