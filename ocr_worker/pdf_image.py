"""Put a page image under a one-page text-only PDF, without encoding the image again.

A grey PNG's compressed pixel data (its IDAT chunks) is already a valid PDF FlateDecode
stream with the PNG predictor, and a JPEG file is a valid DCTDecode stream: both go into
the PDF byte for byte, as img2pdf does. Letting tesseract's PDF renderer embed the image
instead cost 0.2-0.4 s of CPU per A4 page (it decodes and compresses the pixels again)
and wrote pages of 4 MB. The same holds for bilevel and RGB PNGs. Other images (palette,
16-bit, interlaced, transparent, TIFF) are decoded and compressed once here.
"""
from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
from PIL import Image, TiffImagePlugin

from errorkit import BadDocumentError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Save options for PDFs holding page images: qpdf's default decodes every Flate stream and
# compresses it again on save (dropping the PNG predictor): 0.1-0.3 s per page image, for
# nothing. Streams are written as they are.
KEEP_STREAMS: dict[str, Any] = {"stream_decode_level": pikepdf.StreamDecodeLevel.none}
_NAME = pikepdf.Name("/DmsScan")


# PNG (bit depth, colour type) the PDF takes as it is: (bits, colours, colour space).
_PNG_AS_PDF = {(8, 0): (8, 1, pikepdf.Name.DeviceGray), (1, 0): (1, 1, pikepdf.Name.DeviceGray),
               (8, 2): (8, 3, pikepdf.Name.DeviceRGB)}


def _png_stream(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream | None:
    """The PNG's IDAT data as an image stream, if it is 8-bit grey, bilevel or 8-bit RGB
    and not interlaced (PNG's filters per row are PDF's PNG predictors; its bilevel
    0 = black is DeviceGray's too)."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, idat = len(_PNG_SIGNATURE), []
    width = height = 0
    layout: tuple[int, int, pikepdf.Name] | None = None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            layout = _PNG_AS_PDF.get((depth, colour))
            if layout is None or interlace != 0:
                return None
        elif kind == b"tRNS":
            return None  # transparency: flattened onto white by the decoding path
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not (width and height and idat and layout):
        return None
    bits, colours, space = layout
    return _encoded(pdf, b"".join(idat), width, height, space, pikepdf.Name.FlateDecode,
                    pikepdf.Dictionary(Predictor=15, Colors=colours, BitsPerComponent=bits,
                                       Columns=width), bits=bits)


def _encoded(pdf: pikepdf.Pdf, data: bytes, width: int, height: int,
             colour: pikepdf.Name, codec: pikepdf.Name,
             parms: pikepdf.Dictionary | None = None, *, bits: int = 8) -> pikepdf.Stream:
    """An image stream from data already encoded with ``codec`` (written as it is)."""
    stream = pikepdf.Stream(pdf, b"")
    stream.write(data, filter=codec, decode_parms=parms)
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    stream.Width, stream.Height = width, height
    stream.ColorSpace, stream.BitsPerComponent = colour, bits
    return stream


def _eight_bit(im: Image.Image) -> Image.Image:
    """Grey or RGB at 8 bits per sample; 16-bit grey is scaled, not clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(im, dtype=np.uint32)
        top = 65535 if im.mode.startswith("I;16") or wide.max() > 255 else 255
        return Image.fromarray((wide * 255 // max(top, 1)).astype(np.uint8))
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in ("1", "LA") or (im.mode == "P" and im.palette is not None
                                   and im.palette.mode == "L"):
        return im.convert("L")
    return im.convert("RGB")


def _g4_stream(pdf: pikepdf.Pdf, image: Path, im: Image.Image) -> pikepdf.Stream | None:
    """A one-strip CCITT G4 TIFF's strip as a CCITTFaxDecode stream, byte for byte."""
    if not (isinstance(im, TiffImagePlugin.TiffImageFile) and im.mode == "1"
            and im.info.get("compression") == "group4" and getattr(im, "n_frames", 1) == 1):
        return None
    tags = im.tag_v2
    offsets, counts = tags.get(273), tags.get(279)
    if offsets is None or counts is None or len(offsets) != 1 or len(counts) != 1:
        return None
    if tags.get(266, 1) != 1:  # bits in reverse order: PDF has no such option
        return None
    with image.open("rb") as fh:
        fh.seek(int(offsets[0]))
        data = fh.read(int(counts[0]))
    # TIFF photometric 0 shows the G4 black runs black, as PDF's BlackIs1 false does;
    # photometric 1 shows them white (ocr_worker/scan_pages.py).
    black_is_1 = tags.get(262, 0) == 1
    parms = pikepdf.Dictionary(K=-1, Columns=im.width, Rows=im.height, BlackIs1=black_is_1)
    return _encoded(pdf, data, im.width, im.height, pikepdf.Name.DeviceGray,
                    pikepdf.Name.CCITTFaxDecode, parms, bits=1)


def _decoded_stream(pdf: pikepdf.Pdf, image: Path) -> pikepdf.Stream:
    try:
        with Image.open(image) as im:
            # JPEG and G4 go in as they are stored: read the header, not the pixels.
            if im.format == "JPEG" and im.mode in ("L", "RGB"):
                colour = pikepdf.Name.DeviceGray if im.mode == "L" else pikepdf.Name.DeviceRGB
                return _encoded(pdf, image.read_bytes(), im.width, im.height, colour,
                                pikepdf.Name.DCTDecode)
            g4 = _g4_stream(pdf, image, im)
            if g4 is not None:
                return g4
            im.load()
            pixels = _eight_bit(im)
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    colour = pikepdf.Name.DeviceGray if pixels.mode == "L" else pikepdf.Name.DeviceRGB
    return _encoded(pdf, zlib.compress(pixels.tobytes()), pixels.width, pixels.height,
                    colour, pikepdf.Name.FlateDecode)


def image_stream(pdf: pikepdf.Pdf, image: Path) -> pikepdf.Stream:
    """``image`` as an image XObject of ``pdf``, re-encoded only when it must be."""
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    return _png_stream(pdf, data) or _decoded_stream(pdf, image)


def placement(page_w: float, page_h: float, image_w: float, image_h: float,
              ccw_degrees: float) -> bytes:
    """The drawing of the scan image ``image_w`` x ``image_h`` points, turned
    ``ccw_degrees`` counter-clockwise about its centre, centred on the page: what the OCR
    steps' right-angle turn and deskew rotation made of the pixels (both about the image
    centre, white outside), shown without storing the turned pixels."""
    t = math.radians(ccw_degrees)
    c, s = math.cos(t), math.sin(t)
    if abs(c) < 1e-9:
        c = 0.0
    if abs(s) < 1e-9:
        s = 0.0
    return (f"q 1 0 0 1 {page_w / 2:.4f} {page_h / 2:.4f} cm "
            f"{c:.6f} {s:.6f} {-s:.6f} {c:.6f} 0 0 cm "
            f"{image_w:.4f} 0 0 {image_h:.4f} {-image_w / 2:.4f} {-image_h / 2:.4f} cm "
            "/DmsScan Do Q\n").encode()


def scan_drawing(page: pikepdf.Page) -> bytes | None:
    """The content stream that draws the scan image on a page made by :func:`draw_under`."""
    contents = page.obj.get(pikepdf.Name.Contents)
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    found = [st for st in streams if isinstance(st, pikepdf.Stream) and _is_scan_drawing(st)]
    return found[0].read_bytes() if found else None


def _is_scan_drawing(obj: pikepdf.Object | None) -> bool:
    if not isinstance(obj, pikepdf.Stream):
        return False
    data = obj.read_bytes()
    return len(data) < 400 and data.endswith(b"/DmsScan Do Q\n")


def replace_scan(pdf_path: Path, image: Path, *, dpi: int, ccw_degrees: float) -> Path:
    """Swap the scan image of a page PDF made by :func:`put_image_under_text` for
    ``image`` (the page as scanned, ``dpi``), turned by ``ccw_degrees`` about the page
    centre (:func:`placement`), in place: the page shows what the OCR engine read while
    the PDF stores the scan's own bytes."""
    try:
        with Image.open(image) as im:
            width, height = im.size
        with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
            page = pdf.pages[0]
            contents = page.obj.get(pikepdf.Name.Contents)
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            page.obj[pikepdf.Name.Contents] = pikepdf.Array(
                [st for st in streams if not _is_scan_drawing(st)])
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            draw = placement(x1 - x0, y1 - y0, width * 72 / dpi, height * 72 / dpi,
                             ccw_degrees)
            draw_under(pdf, image_stream(pdf, image), draw)
            pdf.save(pdf_path, **KEEP_STREAMS)
    except (OSError, ValueError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"page PDF {pdf_path.name} unreadable: {exc}") from exc
    return pdf_path


def draw_under(pdf: pikepdf.Pdf, xobject: pikepdf.Object, draw: bytes | None = None) -> None:
    """Add ``xobject`` to the first page of ``pdf`` under its content: filling the page,
    or as ``draw`` (a content stream from :func:`placement`) says."""
    page = pdf.pages[0]
    if pikepdf.Name.Resources not in page.obj:
        page.obj[pikepdf.Name.Resources] = pikepdf.Dictionary()
    resources = page.obj[pikepdf.Name.Resources]
    if pikepdf.Name.XObject not in resources:
        resources[pikepdf.Name.XObject] = pikepdf.Dictionary()
    resources[pikepdf.Name.XObject][_NAME] = xobject
    if draw is None:
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        draw = f"q {x1 - x0:.4f} 0 0 {y1 - y0:.4f} {x0:.4f} {y0:.4f} cm /DmsScan Do Q\n".encode()
    page.contents_add(pikepdf.Stream(pdf, draw), prepend=True)


def put_image_under_text(text_pdf: Path, image: Path, out: Path) -> Path:
    """``out``: the one-page ``text_pdf`` (invisible text, no image) with ``image`` under
    it, filling the page. ``out`` may be ``text_pdf``."""
    try:
        with pikepdf.open(text_pdf, allow_overwriting_input=True) as pdf:
            if len(pdf.pages) != 1:
                raise BadDocumentError(f"{text_pdf.name}: a text layer of one page expected")
            draw_under(pdf, image_stream(pdf, image))
            pdf.save(out, **KEEP_STREAMS)
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"text layer {text_pdf.name} unreadable: {exc}") from exc
    return out


# --- the page image a browser shows ---------------------------------------------------

_BROWSER_FORMATS = {"JPEG": ".jpg", "PNG": ".png"}


def _as_png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    (im if im.mode in ("1", "L", "RGB") else im.convert("RGB")).save(buf, "PNG")
    return buf.getvalue()


def browser_image(image: Path) -> tuple[bytes, str]:
    """(bytes, suffix) of a page image a browser can show: a JPEG or PNG as it is, any
    other page image (G4 TIFF, PGM) decoded once and written as PNG."""
    try:
        with Image.open(image) as im:
            suffix = _BROWSER_FORMATS.get(im.format or "")
            if suffix is not None:
                return image.read_bytes(), suffix
            im.load()
            return _as_png(im), ".png"
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadDocumentError(f"page image {image.name} unreadable: {exc}") from exc


def page_scan_image(pdf_path: Path, page_no: int) -> tuple[bytes, str]:
    """(bytes, suffix) of the scan image of page ``page_no`` (1-based) of a searchable
    PDF, for a browser: its JPEG as stored, any other codec decoded once into a PNG."""
    try:
        with pikepdf.open(pdf_path) as pdf:
            if not 1 <= page_no <= len(pdf.pages):
                raise BadDocumentError(f"{pdf_path.name} has no page {page_no}")
            page = pdf.pages[page_no - 1]
            resources = page.obj.get(pikepdf.Name.Resources)
            xobjects = resources.get(pikepdf.Name.XObject) if resources is not None else None
            image = xobjects.get(_NAME) if xobjects is not None else None
            if not isinstance(image, pikepdf.Stream):
                raise BadDocumentError(f"{pdf_path.name} page {page_no} shows no scan image")
            filt = image.get(pikepdf.Name.Filter)
            if filt == pikepdf.Name.DCTDecode and image.get(pikepdf.Name.ColorSpace) in (
                    pikepdf.Name.DeviceGray, pikepdf.Name.DeviceRGB):
                return image.read_raw_bytes(), ".jpg"
            return _as_png(pikepdf.PdfImage(image).as_pil_image()), ".png"
    except pikepdf.PdfError as exc:
        raise BadDocumentError(f"{pdf_path.name} unreadable: {exc}") from exc
