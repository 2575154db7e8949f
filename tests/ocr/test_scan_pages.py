"""Scanner pages at their own resolution: taken from the file as stored, never re-encoded,
and the page PDFs embed the same bytes (checked against the source file's own streams,
and rendered back with poppler)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ocr_worker.pdf_assembly import assemble_searchable_pdf
from ocr_worker.pdf_image import KEEP_STREAMS, placement, replace_scan
from ocr_worker.pdf_slim import is_slim, restore, slim
from ocr_worker.rasterise import rasterise_pages
from ocr_worker.scan_pages import single_image
from ocr_worker.steps import rotate_right_angle
from ocr_worker.text_layer import build_page_pdf, page_images
from ocr_worker.tools import run_tool

from .conftest import SC_LINES, render

LIMITS = {"dpi": 300, "max_pages": 50, "max_pixels": 50_000_000, "timeout": 60.0}


def scan(mode: str, dpi: int = 200) -> Image.Image:
    """An A4 sheet at ``dpi`` with some text and a red seal (for the colour case)."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    page = Image.new("RGB", (w, h), "white")
    text = render(SC_LINES, size=round(50 * dpi / 300), width=w - 40).convert("RGB")
    page.paste(text, (20, round(dpi)))
    ImageDraw.Draw(page).ellipse((w // 2, h // 2, w // 2 + dpi, h // 2 + dpi),
                                 outline=(220, 20, 20), width=max(2, dpi // 40))
    if mode == "1":
        return page.convert("L").point(lambda v: 255 if v > 160 else 0, mode="1")
    return page.convert(mode)


def pdf_images(path: Path) -> list[tuple[str, bytes]]:
    """(filter, raw stream bytes) of the one image of each page."""
    with pikepdf.open(path) as pdf:
        out = []
        for page in pdf.pages:
            (image,) = page_images(page)
            filt = image.get("/Filter")
            name = str(filt[0] if isinstance(filt, pikepdf.Array) else filt)
            out.append((name, image.read_raw_bytes()))
        return out


def rendered(pdf: Path, tmp_path: Path, dpi: int) -> np.ndarray:
    base = tmp_path / f"back-{pdf.stem}"
    run_tool(["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(pdf), str(base)],
             timeout=60)
    with Image.open(base.with_suffix(".pgm")) as im:
        return np.asarray(im)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_jpeg_in_pdf_is_kept_byte_for_byte(tmp_path: Path, mode: str) -> None:
    src = tmp_path / "scan.pdf"
    scan(mode).save(src, "PDF", resolution=200.0)
    ((codec, original),) = pdf_images(src)
    assert codec == "/DCTDecode"
    (page,) = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.path.suffix == ".jpg" and page.codec == "jpeg"
    assert page.dpi == 200  # the scan's own resolution, not the 300 of the settings
    assert page.path.read_bytes() == original
    # ... and the page PDF embeds those bytes again, as DCT.
    out = build_page_pdf(page.path, [], tmp_path / "page.pdf", dpi=page.dpi)
    assert pdf_images(out) == [("/DCTDecode", original)]
    with pikepdf.open(out) as pdf:  # the same physical page size
        assert abs(float(pdf.pages[0].mediabox[2]) - 8.27 * 72) < 1


@pytest.mark.parametrize("icc", [False, True])
def test_dpi_comes_from_the_page_size(tmp_path: Path, icc: bool) -> None:
    # A 1000-px-wide JPEG whose file says 72 dpi, drawn 5 inches wide: a 200-dpi page;
    # scanner drivers often tag it with an ICC profile instead of DeviceGray.
    jpg = tmp_path / "img.jpg"
    scan("L", 200).crop((0, 0, 1000, 1400)).save(jpg, dpi=(72, 72))
    src = tmp_path / "scan.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(360, 504))
        image = pikepdf.Stream(pdf, jpg.read_bytes())
        image.update({"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image,
                      "/Width": 1000, "/Height": 1400, "/BitsPerComponent": 8,
                      "/ColorSpace": pikepdf.Array([pikepdf.Name.ICCBased, pikepdf.Stream(
                          pdf, b"", N=1)]) if icc else pikepdf.Name.DeviceGray,
                      "/Filter": pikepdf.Name.DCTDecode})
        pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        pdf.pages[0].Contents = pikepdf.Stream(pdf, b"q 360 0 0 504 0 0 cm /Im0 Do Q")
        pdf.save(src)
    (page,) = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.codec == "jpeg" and page.dpi == 200
    assert page.path.read_bytes() == jpg.read_bytes()


def test_g4_in_pdf_is_kept_as_ccitt(tmp_path: Path) -> None:
    sheet = scan("1", 200)
    src = tmp_path / "scan.pdf"
    sheet.save(src, "PDF", resolution=200.0)
    ((codec, original),) = pdf_images(src)
    assert codec == "/CCITTFaxDecode"
    (page,) = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.path.suffix == ".tif" and page.codec == "g4" and page.dpi == 200
    with Image.open(page.path) as im:  # a TIFF every reader decodes to the scan's pixels
        assert im.info["compression"] == "group4"
        assert np.array_equal(np.asarray(im.convert("L")), np.asarray(sheet.convert("L")))
    out = build_page_pdf(page.path, [], tmp_path / "page.pdf", dpi=page.dpi)
    assert pdf_images(out) == [("/CCITTFaxDecode", original)]  # not Flate, not re-encoded
    back = rendered(out, tmp_path, 200)
    assert back.shape == (sheet.height, sheet.width)
    assert (back != np.asarray(sheet.convert("L"))).mean() < 0.005  # poppler's edge rounding
    assert np.array_equal(back, rendered(src, tmp_path, 200))  # shown as the scan is


def test_text_pdf_page_is_rendered_to_pgm(tmp_path: Path) -> None:
    # Text and a picture on one page: not a scanner's page, so poppler renders it.
    src = tmp_path / "mixed.pdf"
    photo = tmp_path / "photo.jpg"
    scan("L", 100).crop((0, 0, 300, 300)).save(photo)
    c = canvas.Canvas(str(src), pagesize=A4)
    c.drawString(72, 760, "GDHT-2024-000123")
    c.drawImage(str(photo), 72, 300, 200, 200)
    c.save()
    with pikepdf.open(src) as pdf:
        assert single_image(pdf.pages[0]) is None
    (page,) = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert page.path.suffix == ".pgm" and page.codec == "pnm" and page.dpi == 300
    with Image.open(page.path) as im:
        assert im.mode == "L" and abs(im.width - 2480) <= 1


@pytest.mark.parametrize("strip_size", [1 << 30, 65536])
def test_tiff_g4_pages(tmp_path: Path, strip_size: int) -> None:
    sheets = [scan("1", 200), scan("1", 200).rotate(180)]
    src = tmp_path / "scan.tif"
    sheets[0].save(src, save_all=True, append_images=sheets[1:], compression="group4",
                   dpi=(200, 200), strip_size=strip_size)
    pages = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    assert [(p.path.suffix, p.codec, p.dpi) for p in pages] == [(".tif", "g4", 200)] * 2
    for page, sheet in zip(pages, sheets, strict=True):
        with Image.open(page.path) as im:
            assert im.info["compression"] == "group4"
            assert len(im.tag_v2[273]) == 1  # one strip: one CCITT stream in the PDF
            assert np.array_equal(np.asarray(im), np.asarray(sheet))
        out = build_page_pdf(page.path, [], tmp_path / f"{page.path.stem}.pdf", dpi=page.dpi)
        ((codec, _),) = pdf_images(out)
        assert codec == "/CCITTFaxDecode"
    if strip_size > 1 << 20:  # stored in one strip: the very bytes of the file
        with Image.open(src) as im:
            offset, count = im.tag_v2[273][0], im.tag_v2[279][0]
        data = src.read_bytes()[offset : offset + count]
        out = build_page_pdf(pages[0].path, [], tmp_path / "one.pdf", dpi=200)
        assert pdf_images(out) == [("/CCITTFaxDecode", data)]


@pytest.mark.parametrize(("rotation", "skew"), [(90, 0.0), (180, 1.5), (0, -2.0)])
def test_turned_scan_is_drawn_turned_not_stored_turned(tmp_path: Path, rotation: int,
                                                       skew: float) -> None:
    """The page PDF shows what the OCR steps made of the scan (turned, deskewed) while
    storing the scan's own JPEG: poppler's rendering matches the turned pixels."""
    sheet = scan("L", 100)
    jpg = tmp_path / "scan.jpg"
    sheet.save(jpg, quality=90)
    turned = Image.fromarray(rotate_right_angle(np.asarray(sheet), rotation))
    turned = turned.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    processed = tmp_path / "processed.png"
    turned.save(processed)
    page_pdf = build_page_pdf(processed, [], tmp_path / "page.pdf", dpi=100)
    replace_scan(page_pdf, jpg, dpi=100, ccw_degrees=skew - rotation)
    assert pdf_images(page_pdf) == [("/DCTDecode", jpg.read_bytes())]
    back = rendered(page_pdf, tmp_path, 100).astype(np.int16)
    expect = np.asarray(turned).astype(np.int16)
    assert back.shape == expect.shape
    error = np.abs(back - expect).mean()  # JPEG and resampling noise only
    # Against the scan drawn unturned (the same shape when the turn keeps it), or turned
    # the other way: the placement is what makes the rendering match.
    wrong = Image.fromarray(rotate_right_angle(np.asarray(sheet), -rotation % 360))
    wrong = wrong.rotate(-skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if wrong.size == turned.size:
        wrong_error = np.abs(back - np.asarray(wrong).astype(np.int16)).mean()
        assert error < wrong_error / 3, (error, wrong_error)
    assert error < 2.0


def test_placement_is_identity_for_an_upright_page() -> None:
    draw = placement(100.0, 200.0, 100.0, 200.0, 0.0)
    assert draw.startswith(b"q 1 0 0 1 50.0000 100.0000 cm 1.000000 0.000000")
    with pikepdf.new() as pdf:  # a valid content stream
        pdf.add_blank_page(page_size=(100, 200))
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, draw))
        assert [str(i.operator) for i in pikepdf.parse_content_stream(pdf.pages[0])] == [
            "q", "cm", "cm", "cm", "Do", "Q"]
        pdf.save(Path("/dev/null"), **KEEP_STREAMS)


@pytest.mark.parametrize("kind", ["pdf-jpeg", "pdf-g4", "tiff-g4", "jpeg", "png"])
def test_slim_searchable_pdf_restores_byte_for_byte(tmp_path: Path, kind: str) -> None:
    """The stored searchable PDF leaves out the scan bytes the original holds; restored
    from the original it is the PDF that was slimmed, and no bigger than original + text."""
    sheets = [scan("1" if "g4" in kind else "L", 200) for _ in range(2)]
    sheets[1] = sheets[1].rotate(180)
    if kind in ("jpeg", "png"):
        sheets = sheets[:1]
    src = tmp_path / {"pdf-jpeg": "s.pdf", "pdf-g4": "s.pdf", "tiff-g4": "s.tif",
                      "jpeg": "s.jpg", "png": "s.png"}[kind]
    if kind.startswith("pdf"):
        sheets[0].save(src, "PDF", resolution=200.0, save_all=True, append_images=sheets[1:])
    elif kind == "tiff-g4":
        sheets[0].save(src, save_all=True, append_images=sheets[1:], compression="group4",
                       dpi=(200, 200), strip_size=1 << 30)
    else:
        sheets[0].save(src, dpi=(200, 200))
    pages = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    pdfs = [build_page_pdf(p.path, [], tmp_path / f"p{i}.pdf", dpi=p.dpi)
            for i, p in enumerate(pages, 1)]
    full = assemble_searchable_pdf(pdfs, tmp_path / "full.pdf")
    numbers = list(range(1, len(pages) + 1))
    assert slim(full, src, tmp_path / "slim.pdf", page_numbers=numbers) == len(pages)
    assert is_slim(tmp_path / "slim.pdf")
    assert (tmp_path / "slim.pdf").stat().st_size < 20_000 * len(pages)
    back = restore(tmp_path / "slim.pdf", src, tmp_path / "back.pdf")
    assert pdf_images(back) == pdf_images(full)
    assert not is_slim(back)
    assert back.stat().st_size < src.stat().st_size * 1.03 + 20_000 * len(pages)


def test_slim_keeps_images_the_original_does_not_hold(tmp_path: Path) -> None:
    # A text PDF page is rendered: its page image is not in the original, so it stays.
    src = tmp_path / "digital.pdf"
    c = canvas.Canvas(str(src), pagesize=A4)
    c.drawString(72, 760, "GDHT-2024-000123")
    c.save()
    (page,) = rasterise_pages(src, tmp_path / "out", **LIMITS)  # type: ignore[arg-type]
    full = assemble_searchable_pdf([build_page_pdf(page.path, [], tmp_path / "p.pdf",
                                                   dpi=page.dpi)], tmp_path / "full.pdf")
    assert slim(full, src, tmp_path / "slim.pdf", page_numbers=[1]) == 0
    assert not is_slim(tmp_path / "slim.pdf")
    assert pdf_images(tmp_path / "slim.pdf") == pdf_images(full)
