"""Splitting a PDF leaves the pages poppler must render to their page tasks: the split
takes out the scanner images only, and a page rendered on its own is the page the whole
document's render would have made."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from dms.errors import BadDocumentError
from ocr_worker.rasterise import rasterise_pages, render_pdf_page, split_pages

from .conftest import SC_LINES
from .test_rasterise import LIMITS, image_pdf, text_pdf


def mixed_pdf(tmp_path: Path, page_image: Image.Image) -> Path:
    """Page 1 a scan (one image), page 2 born-digital text, page 3 a scan again."""
    scan = image_pdf(tmp_path / "scan.pdf", [page_image, page_image.rotate(180)])
    digital = text_pdf(tmp_path / "digital.pdf", SC_LINES)
    out = tmp_path / "mixed.pdf"
    with pikepdf.open(scan) as a, pikepdf.open(digital) as b:
        a.pages.insert(1, b.pages[0])
        a.save(out)
    return out


def test_split_takes_out_scans_and_leaves_renders(tmp_path: Path,
                                                  page_image: Image.Image) -> None:
    src = mixed_pdf(tmp_path, page_image)
    out = tmp_path / "split"
    first, second, third = split_pages(src, out, **LIMITS)  # type: ignore[arg-type]
    assert first is not None and third is not None and second is None
    assert first.path.exists() and third.path.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([first.path.name, third.path.name])


def test_a_page_rendered_alone_is_the_page_of_the_whole_render(tmp_path: Path,
                                                              page_image: Image.Image) -> None:
    src = mixed_pdf(tmp_path, page_image)
    whole = rasterise_pages(src, tmp_path / "whole", **LIMITS)  # type: ignore[arg-type]
    alone = render_pdf_page(src, 2, tmp_path / "alone", dpi=300, timeout=60.0)
    assert alone.dpi == 300 and alone.path.suffix == ".pgm"
    with Image.open(alone.path) as a, Image.open(whole[1].path) as w:
        assert a.size == w.size and abs(a.size[0] - 2480) <= 1  # A4 at 300 dpi
        pixels = np.asarray(a)
        assert np.array_equal(pixels, np.asarray(w))
        assert pixels.min() < 100  # the text is there, not a blank page


def test_a_page_too_large_to_render_is_refused_at_the_split(tmp_path: Path) -> None:
    src = tmp_path / "huge.pdf"
    c = canvas.Canvas(str(src), pagesize=(14_400, 14_400))  # 200 x 200 inches
    c.drawString(10, 10, "x")
    c.save()
    with pytest.raises(BadDocumentError, match="decompression bomb"):
        split_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_rendering_a_page_of_a_broken_pdf_names_the_page(tmp_path: Path) -> None:
    src = tmp_path / "cut.pdf"
    src.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n")
    with pytest.raises(BadDocumentError, match="page 1"):
        render_pdf_page(src, 1, tmp_path / "out", dpi=300, timeout=30.0)
