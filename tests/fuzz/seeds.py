"""Small valid files of every accepted format: the seeds the fuzzers damage."""
from __future__ import annotations

import io
from functools import cache

import pikepdf
from PIL import Image, ImageDraw
from reportlab.pdfgen import canvas


def _image(mode: str = "L", size: tuple[int, int] = (48, 32)) -> Image.Image:
    im = Image.new(mode, size, "white")
    ImageDraw.Draw(im).text((2, 2), "合同 1", fill="black")
    return im


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


@cache
def seed_files() -> dict[str, bytes]:
    pdf = io.BytesIO()
    c = canvas.Canvas(pdf, pagesize=(120, 80), invariant=1)
    for i in range(2):
        c.drawString(10, 40, f"page {i + 1}")
        c.showPage()
    c.save()
    scanned = io.BytesIO()  # an image-only PDF, as scanners make them, rewritten by qpdf
    with pikepdf.open(io.BytesIO(_save(_image("RGB"), "PDF"))) as p:
        p.save(scanned)
    tiff = io.BytesIO()
    _image().save(tiff, "TIFF", save_all=True, append_images=[_image(), _image("1")])
    return {
        "text.pdf": pdf.getvalue(),
        "scan.pdf": scanned.getvalue(),
        "grey.png": _save(_image(), "PNG"),
        "rgb.png": _save(_image("RGB"), "PNG"),
        "bilevel.png": _save(_image("1"), "PNG"),
        "photo.jpg": _save(_image("RGB"), "JPEG", quality=70),
        "pages.tif": tiff.getvalue(),
        "lzw.tif": _save(_image(), "TIFF", compression="tiff_lzw"),
    }


EXTENSION = {"pdf": ".pdf", "png": ".png", "jpg": ".jpg", "tif": ".tif"}
