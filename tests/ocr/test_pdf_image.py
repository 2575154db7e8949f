"""The page image under the text layer: embedded as stored where the format allows, and
always pixel for pixel the image (rendered back with poppler and compared)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw

from dms.errors import BadDocumentError
from ocr_worker.pdf_image import put_image_under_text
from ocr_worker.text_layer import build_page_pdf, page_images
from ocr_worker.tools import run_tool

DPI = 72  # one pixel per point: poppler renders the page back at the image's own size


def drawing(mode: str) -> Image.Image:
    im = Image.new("RGB", (300, 200), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((20, 20, 120, 90), fill=(200, 30, 30))
    d.ellipse((150, 60, 280, 180), fill=(30, 30, 200))
    d.line((0, 199, 299, 0), fill=(0, 0, 0), width=3)
    if mode == "1":  # thresholded, not dithered: a scanner's bilevel page
        return im.convert("L").point(lambda v: 255 if v > 160 else 0, mode="1")
    return im.convert(mode)


def rendered(pdf: Path, tmp_path: Path, grey: bool) -> np.ndarray:
    base = tmp_path / f"r-{pdf.stem}"
    colour = ["-gray"] if grey else []
    run_tool(["pdftoppm", "-r", str(DPI), "-png", *colour, str(pdf), str(base)], timeout=60)
    [png] = list(tmp_path.glob(f"r-{pdf.stem}*.png"))
    with Image.open(png) as im:
        return np.asarray(im.convert("L" if grey else "RGB"))


def assert_looks_like(back: np.ndarray, expect: np.ndarray) -> None:
    """Same size, same picture: poppler's resampling softens edges by a pixel, so the
    mean difference is compared (a wrong, flipped or shifted image differs by ~40)."""
    assert back.shape == expect.shape
    assert np.abs(back.astype(int) - expect.astype(int)).mean() < 4


def page_pdf(tmp_path: Path, image: Path) -> Path:
    return build_page_pdf(image, [], tmp_path / f"{image.stem}.pdf", dpi=DPI)


def embedded(pdf: Path) -> tuple[pikepdf.Name, int | None, bytes]:
    """The page's one image: its filter, its PNG predictor (if any), its stored bytes."""
    with pikepdf.open(pdf) as doc:
        [xobject] = page_images(doc.pages[0])
        parms = xobject.get(pikepdf.Name.DecodeParms)
        predictor = int(parms.Predictor) if parms is not None else None
        return xobject.Filter, predictor, xobject.read_raw_bytes()


@pytest.mark.parametrize("mode", ["L", "1", "RGB"])
def test_png_goes_in_byte_for_byte(tmp_path: Path, mode: str) -> None:
    # grey (what rasterise writes), bilevel (archive scans), RGB (colour scans, red seals)
    image = tmp_path / f"page-{mode}.png"
    drawing(mode).save(image, compress_level=1)
    pdf = page_pdf(tmp_path, image)
    codec, predictor, raw = embedded(pdf)
    assert (codec, predictor) == (pikepdf.Name.FlateDecode, 15)
    assert raw in image.read_bytes()  # the PNG's IDAT data, not compressed again
    grey = mode != "RGB"
    with Image.open(image) as im:
        expect = np.asarray(im.convert("L" if grey else "RGB"))
    assert_looks_like(rendered(pdf, tmp_path, grey=grey), expect)


def test_jpeg_goes_in_as_its_file(tmp_path: Path) -> None:
    image = tmp_path / "scan.jpg"
    drawing("L").save(image, quality=90)
    pdf = page_pdf(tmp_path, image)
    codec, predictor, raw = embedded(pdf)
    assert (codec, predictor) == (pikepdf.Name.DCTDecode, None)
    assert raw == image.read_bytes()
    assert_looks_like(rendered(pdf, tmp_path, grey=True), np.asarray(Image.open(image)))


def _save_other(image: Path, kind: str) -> np.ndarray:
    """Write a PNG the byte-for-byte path does not take; return the pixels expected back."""
    if kind == "interlaced":
        drawing("RGB").save(image, interlace=1)
    elif kind == "palette":
        # an adaptive palette: the default web palette dithers, which poppler's
        # resampling then averages -- a difference of the test image, not of the PDF
        drawing("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(image)
    else:  # 16-bit grey
        Image.fromarray(np.asarray(drawing("L")).astype(np.uint16) * 257).save(image)
        return np.asarray(drawing("L"))
    with Image.open(image) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("kind", ["interlaced", "palette", "grey16"])
def test_other_images_are_encoded_once_and_look_the_same(tmp_path: Path, kind: str) -> None:
    image = tmp_path / f"other-{kind}.png"
    expect = _save_other(image, kind)
    pdf = page_pdf(tmp_path, image)
    back = rendered(pdf, tmp_path, grey=expect.ndim == 2)
    assert_looks_like(back, expect)


def test_unreadable_image_is_a_clear_error(tmp_path: Path) -> None:
    ok = tmp_path / "ok.png"
    drawing("L").save(ok)
    text = build_page_pdf(ok, [], tmp_path / "t.pdf", dpi=DPI)
    image = tmp_path / "broken.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(BadDocumentError, match="broken.png"):
        put_image_under_text(text, image, tmp_path / "out.pdf")
