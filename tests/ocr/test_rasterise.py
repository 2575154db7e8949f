"""Rasterising uploads: formats, DPI, limits and broken files."""
from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from dms.errors import BadDocumentError
from ocr_worker.rasterise import image_dpi, pdf_text_layer, rasterise, rasterise_pages

from .conftest import SC_LINES, render, save

LIMITS = {"dpi": 300, "max_pages": 50, "max_pixels": 50_000_000, "timeout": 60.0}


def image_pdf(path: Path, pages: list[Image.Image], dpi: int = 300) -> Path:
    """An image-only PDF, like a scanner writes."""
    pages[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return path


def text_pdf(path: Path, lines: list[str]) -> Path:
    """A born-digital PDF with a real text layer in a CID CJK font."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("STSong-Light", 14)
    for i, line in enumerate(lines):
        c.drawString(72, A4[1] - 72 - i * 24, line)
    c.showPage()
    c.save()
    return path


def dpi_of(p: Path) -> int:
    with Image.open(p) as im:
        return round(im.info["dpi"][0])


def test_multipage_image_pdf(tmp_path: Path, page_image: Image.Image) -> None:
    src = image_pdf(tmp_path / "scan.pdf", [page_image, page_image.rotate(180)])
    pages = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    # The scanner's JPEGs as they are, at the DPI of the page size.
    assert [p.path.name for p in pages] == ["page-0001.jpg", "page-0002.jpg"]
    with Image.open(pages[0].path) as im:
        assert im.mode == "L"
        assert im.size == page_image.size
    assert [p.dpi for p in pages] == [300, 300]
    assert pdf_text_layer(src) == ["", ""]


def test_multipage_tiff_carries_dpi(tmp_path: Path, page_image: Image.Image) -> None:
    src = tmp_path / "scan.tif"
    page_image.save(src, save_all=True, append_images=[page_image], dpi=(200, 200),
                    compression="tiff_lzw")
    pages = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert len(pages) == 2 and all(p.dpi == 200 for p in pages)
    # LZW frames are decoded once, into PGM: no compression spent on a work file.
    assert [p.path.suffix for p in pages] == [".pgm", ".pgm"]


def test_jpeg_without_dpi_assumes_settings(tmp_path: Path, page_image: Image.Image) -> None:
    src = save(page_image.convert("RGB"), tmp_path / "photo.jpg", dpi=None)
    pages = rasterise(src, tmp_path / "out", **{**LIMITS, "dpi": 250})  # type: ignore[arg-type]
    assert len(pages) == 1
    with Image.open(pages[0]) as im:  # the page steps read the DPI the same way
        assert image_dpi(im, 250) == 250


@pytest.mark.parametrize(("mode", "name"), [("L", "grey.png"), ("1", "bilevel.png"),
                                            ("RGB", "colour.png"), ("RGB", "colour.jpg"),
                                            ("L", "grey.jpg")])
def test_one_page_image_is_the_page_as_it_is(tmp_path: Path, page_image: Image.Image,
                                             mode: str, name: str) -> None:
    # Not decoded, turned grey and encoded again: the page steps and the page PDF take
    # these files as they are (a colour scan keeps its colour).
    src = save(page_image.convert(mode), tmp_path / name)
    (page,) = rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.name == f"page-0001{src.suffix}"
    assert page.read_bytes() == src.read_bytes()


def test_jpeg_turned_by_exif_is_stored_as_its_pixels(tmp_path: Path,
                                                     page_image: Image.Image) -> None:
    # A browser would show it turned, tesseract reads it as stored: decoded to its pixels
    # (PPM) so the viewer and the word boxes agree.
    src = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    page_image.convert("RGB").save(src, exif=exif, dpi=(300, 300))
    (page,) = rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.suffix == ".ppm"
    with Image.open(page) as im:
        assert im.mode == "RGB" and im.size == page_image.size


def test_truncated_jpeg(tmp_path: Path, page_image: Image.Image) -> None:
    whole = save(page_image.convert("RGB"), tmp_path / "whole.jpg")
    src = tmp_path / "cut.jpg"
    src.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(BadDocumentError, match="corrupt image cut.jpg"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_png_alpha_flattened_to_white(tmp_path: Path) -> None:
    src = tmp_path / "a.png"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(src)
    (page,) = rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    with Image.open(page) as im:
        assert im.getextrema() == (255, 255)


def test_too_many_pages(tmp_path: Path, page_image: Image.Image) -> None:
    src = image_pdf(tmp_path / "scan.pdf", [page_image] * 3)
    with pytest.raises(BadDocumentError, match="3 pages"):
        rasterise(src, tmp_path / "out", **{**LIMITS, "max_pages": 2})  # type: ignore[arg-type]


def test_text_layer_is_returned(tmp_path: Path) -> None:
    src = text_pdf(tmp_path / "digital.pdf", SC_LINES)
    (text,) = pdf_text_layer(src)
    assert "GDHT-2024-000123" in text and "杭州市西湖区" in text
    (page,) = rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.suffix == ".pgm"  # rendered by poppler, never PNG
    with Image.open(page) as im:
        assert abs(im.size[0] - 2480) <= 1 and abs(im.size[1] - 3508) <= 1  # A4, 300 dpi


def test_encrypted_pdf(tmp_path: Path, page_image: Image.Image) -> None:
    plain = image_pdf(tmp_path / "plain.pdf", [page_image])
    src = tmp_path / "locked.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(src, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    with pytest.raises(BadDocumentError, match="encrypted PDF"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_owner_password_only_pdf_is_readable(tmp_path: Path, page_image: Image.Image) -> None:
    plain = image_pdf(tmp_path / "plain.pdf", [page_image])
    src = tmp_path / "restricted.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(src, encryption=pikepdf.Encryption(user="", owner="owner"))
    assert len(rasterise(src, tmp_path / "out", **LIMITS)) == 1  # type: ignore[arg-type]


def test_image_decompression_bomb(tmp_path: Path) -> None:
    src = tmp_path / "bomb.png"
    Image.new("1", (10_000, 6_000), 1).save(src)  # a few KB on disk, 60 Mpx decoded
    with pytest.raises(BadDocumentError, match="decompression bomb"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_pdf_decompression_bomb(tmp_path: Path) -> None:
    src = tmp_path / "huge.pdf"
    c = canvas.Canvas(str(src), pagesize=(14_400, 14_400))  # 200 x 200 inches
    c.drawString(10, 10, "x")
    c.save()
    with pytest.raises(BadDocumentError, match="decompression bomb"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_truncated_png(tmp_path: Path, page_png: Path) -> None:
    src = tmp_path / "cut.png"
    src.write_bytes(page_png.read_bytes()[: page_png.stat().st_size // 2])
    with pytest.raises(BadDocumentError, match="corrupt image"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_damaged_png_fails_without_decoding(tmp_path: Path, page_png: Path) -> None:
    # A grey PNG is copied, not decoded: its chunk checksums still catch a damaged byte.
    data = bytearray(page_png.read_bytes())
    data[len(data) // 2] ^= 0xFF
    src = tmp_path / "damaged.png"
    src.write_bytes(bytes(data))
    with pytest.raises(BadDocumentError, match="corrupt image damaged.png"):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_truncated_pdf(tmp_path: Path, page_image: Image.Image) -> None:
    whole = image_pdf(tmp_path / "whole.pdf", [page_image, page_image])
    src = tmp_path / "cut.pdf"
    src.write_bytes(whole.read_bytes()[:400])
    with pytest.raises(BadDocumentError):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


@pytest.mark.parametrize("content", [b"", b"hello, not a document", b"%PDF-1.7\ngarbage"])
def test_garbage(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "x.pdf"
    src.write_bytes(content)
    with pytest.raises(BadDocumentError):
        rasterise(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]


def test_render_helper_is_deterministic() -> None:
    assert render(["供电"]).tobytes() == render(["供电"]).tobytes()
